"""The ``hub`` command line: generate and serve worlds, sync, build, reconcile, report, demo.

Heavy libraries (Dagster, singer-sdk, SQLAlchemy dialects) load inside the commands that use
them, so ``hub --help`` answers at once.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hub_cli import alerts_cmd, connectors_cmd
from hub_cli.common import ConnectorsOpt, SourceOpt, WarehouseOpt, cli_console
from hub_cli.diagnostics import HubTyper, fail, setup_logging

app = HubTyper(help="Customer-360 integration hub.", no_args_is_help=True, add_completion=False,
               pretty_exceptions_enable=False)
app.add_typer(connectors_cmd.app, name="connectors")
app.add_typer(alerts_cmd.app, name="alerts")
console = cli_console()

AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Evaluate rules as of this ISO time (with offset); default now.")]


def _settings(warehouse: str | None = None, connectors: Path | None = None):
    from hub_core.settings import get_settings

    return get_settings(warehouse_url=warehouse, connectors_file=connectors)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO time: {value!r}", param_hint="--as-of") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("give a timezone offset, e.g. 2026-11-20T09:00:00+08:00", param_hint="--as-of")
    return moment


_fail = fail


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show log lines and full error traces (they always go to hub-data/logs/hub.log).")] = False) -> None:
    setup_logging(verbose)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder for world.json and truth.json.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 7,
    customers: Annotated[int, typer.Option(min=1, help="Number of real customer companies.")] = 60,
    now: Annotated[str, typer.Option(help="The world's clock (meta.now).")] = "2026-11-20T09:00:00+08:00",
    difficulty: Annotated[str, typer.Option(help="Identity cases: default (a modest share, mostly with evidence) or hard.")] = "default",
) -> None:
    """Write a consistent synthetic world (world.json) and what a perfect hub finds in it (truth.json)."""
    from simulators.generator import DIFFICULTIES, Knobs, write

    if difficulty not in DIFFICULTIES:
        raise typer.BadParameter(f"use one of {', '.join(DIFFICULTIES)}", param_hint="--difficulty")
    world_path, truth_path = write(out, seed=seed, customers=customers, now=now, knobs=Knobs(difficulty=difficulty))
    console.print(f"wrote {world_path} and {truth_path}")


@app.command()
def simulate(
    world: Annotated[Path, typer.Option(help="World file to serve.")],
    host: str = "127.0.0.1",
    port: int = 8700,
) -> None:
    """Serve a world file through the CRM, U8, finance and WeCom simulators until Ctrl-C."""
    from simulators.server import serve_forever
    from simulators.world import WorldError, load_world

    try:
        loaded = load_world(world)
    except WorldError as exc:
        _fail(str(exc))
    base = f"http://{host}:{port}"
    console.print(f"serving {world}: CRM {base}/crm  U8 {base}/u8  finance {base}/finance  WeCom {base}/wecom")
    serve_forever(loaded, host=host, port=port)


@app.command()
def migrate(warehouse: WarehouseOpt = None) -> None:
    """Create or upgrade the warehouse schema."""
    from hub_core.warehouse import current_revision, open_warehouse

    engine = open_warehouse(_settings(warehouse).warehouse_url)
    console.print(f"warehouse at revision {current_revision(engine)}")


@app.command()
def sync(
    source: SourceOpt = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Ignore the saved state: read everything again.")] = False,
    warehouse: WarehouseOpt = None,
    connectors: ConnectorsOpt = None,
    accept_deletions: Annotated[bool, typer.Option(
        "--accept-deletions", help="Believe this sync's full passes even when they leave out more than "
        "staleness.max_drop of the records (a real purge): mark them deleted instead of withholding.")] = False,
    parallel: Annotated[int | None, typer.Option(
        "--parallel", min=1, envvar="HUB_SYNC_PARALLEL",
        help="Sources synced at once (default: 4 on PostgreSQL, 1 on SQLite, whose one writer would make "
             "them queue). A failing source never stops the others.")] = None,
) -> None:
    """Sync each enabled source (incrementally) with live progress; exit 1 if any source failed."""
    from hub_cli.sync_cmd import run_sync

    raise typer.Exit(run_sync(console, source, warehouse, connectors, full_refresh, accept_deletions, parallel))


@app.command()
def runs(
    source: SourceOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    warehouse: WarehouseOpt = None,
) -> None:
    """The sync history: status, records read/landed/set aside, duration and the error line."""
    from hub_cli.runs_cmd import show_runs

    raise typer.Exit(show_runs(console, warehouse, source, limit))


@app.command()
def build(warehouse: WarehouseOpt = None) -> None:
    """Rebuild the unified customer-360 from the landed raw records, run the quality checks and
    publish customer_360 unless a critical check failed (then exit 1, customer_360 unchanged)."""
    from hub_core.warehouse import open_warehouse
    from mappings.build import build_customer360
    from orchestration.gate import check_and_publish

    url = _settings(warehouse).warehouse_url
    stats = build_customer360(open_warehouse(url))
    console.print(f"{stats.customers} customers from {stats.customer_records} records ({stats.review} to review)")
    gate = check_and_publish(url)
    for name in gate.warnings:
        console.print(f"[yellow]quality warning: {gate.lines[name]}[/yellow]", highlight=False, soft_wrap=True)
    if not gate.published:
        for name in gate.blocked_by:
            console.print(f"[red]quality check failed: {gate.lines[name]}[/red]", highlight=False, soft_wrap=True)
        _fail(f"build {gate.build_id} not published: customer_360 is unchanged (it shows build "
              f"{_published(url)}); the report waits for a published build")
    console.print(f"customer_360 published (build {gate.build_id}, {gate.rows} rows)")


def _published(url: str) -> str:
    from hub_core.warehouse import make_engine
    from mappings.publish import published_build

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(published_build(conn) or "none")
    finally:
        engine.dispose()


@app.command()
def reconcile(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    rules: Annotated[str | None, typer.Option("--rules", help="Only these rules, e.g. R1,R3 (default: all).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Evaluate every customer, never only the scope "
                                       "incremental builds and the as-of's move reach.")] = False,
) -> None:
    """Evaluate the consistency rules and update the open discrepancies; print a summary per rule.
    An as-of earlier than the latest run is a what-if (nothing stored). After incremental builds
    only the customers whose findings can have changed are evaluated (same result: quality/scope.py).
    Exits 1 when a stale source held rules back."""
    from rich.table import Table

    from hub_core.warehouse import open_warehouse
    from quality.reconcile import reconcile as run
    from quality.reconcile import summary_rows

    chosen = [r.strip().upper() for r in rules.split(",") if r.strip()] if rules else None
    try:
        result = run(open_warehouse(_settings(warehouse).warehouse_url), as_of=_as_of(as_of), rules=chosen, full=full)
    except ValueError as exc:
        _fail(str(exc))
    table = Table("rule", "found", "new", "reopened", "persisting", "resolved", "held back",
                  title=f"as of {result.as_of.isoformat()}" + (" (what-if: nothing stored)" if result.what_if else ""))
    for row in summary_rows(result):
        table.add_row(row["rule"], *(str(row[k]) for k in ("found", "new", "reopened", "persisting", "resolved")),
                      row["held_back"])
    console.print(table)
    console.print(f"{result.mode}: {result.scope_customers} customers in scope" if result.mode == "scoped"
                  else f"full ({result.why_full})")
    for source, reason in result.stale_sources.items():
        console.print(f"[yellow]source {source} is stale: {reason}[/yellow]")
    if result.held_back:
        raise typer.Exit(1)


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="Folder for the result files.")],
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    week: Annotated[bool, typer.Option("--week", help="Weekly report: the ISO week ending at the latest "
                                       "Monday 08:00 Asia/Shanghai at or before --as-of.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Report language: zh (default) or en.")] = "zh",
) -> None:
    """Reconcile as of a time (default now) and write discrepancies.json, customers.json, report.*."""
    from datetime import UTC, datetime

    from hub_core.warehouse import open_warehouse
    from quality.reconcile import reconcile as run
    from quality.report import LANGS, week_end, write_report

    if lang not in LANGS:
        _fail(f"unknown report language {lang!r}: choose one of {', '.join(LANGS)}")
    moment = _as_of(as_of)
    if week:
        moment = week_end(moment or datetime.now(UTC))
    engine = open_warehouse(_settings(warehouse).warehouse_url)
    from mappings.publish import unpublished

    with engine.connect() as conn:
        why = unpublished(conn)
    if why:
        _fail(f"no report: {why}")
    result = run(engine, as_of=moment)
    files = write_report(engine, out, lang=lang, as_of=result.as_of, weekly=week,
                         held_back=getattr(result, "held_back", None))
    console.print(f"{files.discrepancies} open discrepancies, {files.customers} customers -> {files.out_dir}")


@app.command()
def run(
    out: Annotated[Path, typer.Option(help="Folder for the result files.")] = Path("hub-report"),
    warehouse: WarehouseOpt = None,
    connectors: ConnectorsOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Run the whole pipeline through Dagster: sync every source, build, reconcile, report."""
    from hub_cli.common import load_chosen_sources, warehouse_engine
    from hub_cli.diagnostics import is_verbose
    from hub_cli.summary import print_pipeline
    from orchestration.run import run_pipeline

    settings = _settings(warehouse, connectors)
    names = [s.name for s in load_chosen_sources(settings.connectors_file, None)]
    warehouse_engine(settings.warehouse_url).dispose()  # a bad URL is one line here, not a Dagster trace
    result = run_pipeline(settings.warehouse_url, str(settings.connectors_file), str(out), names, _as_of(as_of),
                          log_level="INFO" if is_verbose() else "CRITICAL")
    print_pipeline(console, result, out, settings.warehouse_url)
    if not result.success:
        raise typer.Exit(1)


@app.command()
def demo(
    world: Annotated[Path | None, typer.Option(help="Serve this world file instead of generating one.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the world, the warehouse and the results.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Seed of the generated world.")] = 7,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the generated world.")] = 60,
) -> None:
    """Generate (or load) a world, serve it, sync every source, build, reconcile as of the world's
    clock and write the report — all on the embedded SQLite warehouse."""
    from hub_cli.demo import run_demo
    from hub_cli.summary import print_pipeline

    try:
        outcome = run_demo(out, world=world, seed=seed, customers=customers, console=console)
    except ValueError as exc:
        _fail(str(exc))
    print_pipeline(console, outcome.result, out, f"sqlite:///{(Path(out) / 'warehouse.db').resolve()}")
    if not outcome.result.success:
        raise typer.Exit(1)


from hub_cli.serve_cmd import register_api_commands; register_api_commands(app)  # noqa: E402,E702
app.add_typer(__import__("hub_cli.customers").customers.app, name="customers")  # hub customers ...
from hub_cli.u8db_cmd import register as _register_u8db; _register_u8db(app)  # noqa: E402,E702
from hub_cli.plugins_cmd import register as _register_plugins; _register_plugins(app)  # noqa: E402,E702
app.add_typer(__import__("hub_cli.quarantine_cmd").quarantine_cmd.app, name="quarantine")  # hub quarantine ...

if __name__ == "__main__":  # pragma: no cover
    app()
