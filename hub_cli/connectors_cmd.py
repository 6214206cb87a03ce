"""``hub connectors list|check|discover``: what is configured, whether it answers, what it offers."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from hub_cli.common import ConnectorsOpt, SourceOpt, WarehouseOpt, cli_console

app = typer.Typer(help="Configured sources: list them, check their connection, discover their streams.",
                  no_args_is_help=True)
console = cli_console()


def _last_runs(warehouse_url: str) -> tuple[dict, str | None]:
    """{source: (status, finished or started, error)} of each source's latest run."""
    from sqlalchemy import func, select

    from hub_cli.common import warehouse_engine
    from hub_core.schema import sync_run
    from hub_core.warehouse import WarehouseError

    try:
        engine = warehouse_engine(warehouse_url)
    except WarehouseError as exc:
        return {}, str(exc)
    latest = select(func.max(sync_run.c.id)).group_by(sync_run.c.source).scalar_subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(sync_run).where(sync_run.c.id.in_(latest))).all()
    return {r.source: r for r in rows}, None


@app.command("list")
def list_sources(warehouse: WarehouseOpt = None, connectors: ConnectorsOpt = None) -> None:
    """List the configured sources with their connector, whether enabled, and the last run."""
    from hub_cli.common import load_chosen_sources, settings

    conf = settings(warehouse, connectors)
    sources = load_chosen_sources(conf.connectors_file, None, enabled_only=False)
    last, problem = _last_runs(conf.warehouse_url)
    table = Table(title=f"Sources in {conf.connectors_file}", title_justify="left")
    for col in ("source", "connector", "enabled", "last run", "when", "note"):
        table.add_column(col, overflow="fold")
    for source in sources:
        run = last.get(source.name)
        when = ""
        if run is not None:
            moment = run.finished_at or run.started_at
            when = moment.strftime("%Y-%m-%d %H:%M") + " UTC" if moment else ""
        note = source.config_error or (run.error if run is not None and run.status != "succeeded" else "") or ""
        table.add_row(source.name, source.connector or source.plugin or source.manifest or " ".join(source.command or []),
                      "yes" if source.enabled else "no", run.status if run is not None else "never", when,
                      escape(note))
    console.print(table)
    if problem:
        console.print(f"[yellow]last runs unknown:[/yellow] {escape(problem)}")


@app.command()
def check(source: SourceOpt = None, connectors: ConnectorsOpt = None) -> None:
    """Make one real connection (token) call per source; print OK or what to fix. Exit 1 if any fails."""
    from connectors.check import check_source
    from hub_cli.common import load_chosen_sources, settings

    conf = settings(connectors=connectors)
    failed = 0
    for cfg in load_chosen_sources(conf.connectors_file, source):
        result = check_source(cfg)
        if result.ok:
            console.print(f"{cfg.name}: [green]OK[/green] ({result.message}, {result.seconds:.1f} s)", highlight=False)
        else:
            failed += 1
            console.print(f"[red]{escape(cfg.name)}: {escape(result.message)}[/red]", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def discover(source: SourceOpt = None, connectors: ConnectorsOpt = None) -> None:
    """Print each source's streams with their key and replication key (from the tap's catalog)."""
    from connectors.check import describe_streams
    from connectors.failures import address_of, explain
    from connectors.singer_runner import TapError, TapProcess
    from hub_cli.common import load_chosen_sources, settings

    conf = settings(connectors=connectors)
    failed = 0
    for cfg in load_chosen_sources(conf.connectors_file, source):
        try:
            if cfg.config_error:
                raise TapError(cfg.config_error)
            if cfg.kind == "airbyte":  # a plugin or manifest speaking the Airbyte protocol
                from connectors.airbyte_runner import singer_catalog, source_process

                catalog = singer_catalog(source_process(cfg, timeout_s=300).discover())
            else:
                catalog = TapProcess(cfg.tap_command(), cfg.config, timeout_s=300).discover()
        except TapError as exc:
            failed += 1
            address = address_of(cfg.connector, cfg.config)
            line = explain(cfg.name, cfg.connector, address, str(exc)).message
            console.print(f"[red]{escape(cfg.name)}: {escape(line)}[/red]", highlight=False)
            continue
        table = Table(title=f"{cfg.name} ({cfg.connector or cfg.manifest or cfg.tap_command()[0]})", title_justify="left")
        for col in ("stream", "key", "replication", "replication key", "synced"):
            table.add_column(col, overflow="fold")
        for info in describe_streams(catalog):
            synced = "yes" if (cfg.streams is None or info.name in cfg.streams) else "no"
            table.add_row(info.name, ", ".join(info.key_properties), info.replication_method,
                          ", ".join(info.replication_keys), synced)
        console.print(table)
    if failed:
        raise typer.Exit(1)
