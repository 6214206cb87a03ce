"""``hub quarantine list|show|replay``: the records the loader set aside, once per payload.

``list`` filters by source, stream, reason text, kind and status (open by default); ``show``
prints one entry with its payload (business data, like any landed record; secrets never reach a
payload - the loader masks them); ``replay`` re-judges open entries against the stream's current
SCHEMA and drift policy and lands those that pass now (connectors/replay.py).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hub_cli.common import ConnectorsOpt, WarehouseOpt, cli_console

app = typer.Typer(help="Records set aside while landing: list them, show one, replay them after a fix.",
                  no_args_is_help=True)

SourceFilter = Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")]
StreamFilter = Annotated[str | None, typer.Option("--stream", help="Only this stream.")]
ReasonFilter = Annotated[str | None, typer.Option("--reason", help="Only entries whose reason contains this text.")]
_STATUS_STYLE = {"open": "yellow", "replayed": "green", "superseded": "cyan"}


def _when(moment) -> str:
    from connectors.runs import _aware

    return _aware(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _engine(warehouse: str | None):
    from hub_cli.common import settings, warehouse_engine

    return warehouse_engine(settings(warehouse).warehouse_url)


@app.command("list")
def list_quarantine(
    source: SourceFilter = None, stream: StreamFilter = None, reason: ReasonFilter = None,
    kind: Annotated[str | None, typer.Option(help="invalid, drift, tap or unparsable.")] = None,
    status: Annotated[str, typer.Option(help="open, replayed, superseded or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="How many entries to show (latest seen first).")] = 50,
    warehouse: WarehouseOpt = None,
) -> None:
    """Quarantined records: where from, why, how often seen, since when."""
    from connectors.quarantine import KINDS, STATUSES, list_entries
    from hub_cli.diagnostics import fail

    if status != "all" and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)} or all, not {status!r}")
    if kind is not None and kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rows, total = list_entries(_engine(warehouse), source=source, stream=stream, reason=reason, kind=kind,
                               status=None if status == "all" else status, limit=limit)
    console = cli_console()
    if not rows:
        console.print("no quarantined records" + ("" if status == "all" else f" ({status})"))
        return
    table = Table(title=f"Quarantine ({len(rows)} of {total}, latest seen first)", title_justify="left")
    for col in ("id", "source", "stream", "key", "kind", "status", "seen", "first seen", "last seen", "reason"):
        table.add_column(col, justify="right" if col in ("id", "seen") else "left", overflow="fold")
    for r in rows:
        style = _STATUS_STYLE.get(r.status or "open", "white")
        table.add_row(str(r.id), escape(r.source), escape(r.stream or "-"), escape(r.record_key or "-"),
                      r.kind or "invalid", f"[{style}]{r.status or 'open'}[/{style}]", str(r.seen_count or 1),
                      _when(r.rejected_at), _when(r.last_seen_at or r.rejected_at), escape(r.reason))
    console.print(table)


@app.command("show")
def show(entry_id: Annotated[int, typer.Argument(help="The entry id (from `hub quarantine list`).")],
         warehouse: WarehouseOpt = None) -> None:
    """One quarantined record with its payload, cursor and connector."""
    import orjson

    from connectors.quarantine import get_entry
    from hub_cli.diagnostics import fail

    row = get_entry(_engine(warehouse), entry_id)
    if row is None:
        fail(f"no quarantine entry {entry_id} (see `hub quarantine list --status all`)")
    console = cli_console()
    connector = " ".join(x for x in (row.connector, row.connector_version) if x) or "-"
    seen = (f"{row.seen_count or 1} time(s), first {_when(row.rejected_at)} (run {row.sync_run_id}), last "
            f"{_when(row.last_seen_at or row.rejected_at)} (run {row.last_sync_run_id or row.sync_run_id})")
    for label, value in (("entry", row.id), ("source", row.source), ("stream", row.stream or "-"),
                         ("record key", row.record_key or "-"), ("kind", row.kind or "invalid"),
                         ("status", row.status or "open"), ("reason", row.reason),
                         ("seen", seen),
                         ("resolved", _when(row.resolved_at) or "-"), ("connector", connector),
                         ("cursor", row.cursor or "-")):
        console.print(f"[bold]{label}:[/bold] {escape(str(value))}", highlight=False)
    try:
        payload = orjson.dumps(orjson.loads(row.data), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        payload = row.data
    console.print("[bold]payload:[/bold]", highlight=False)
    console.print(escape(payload), highlight=False, soft_wrap=True)


@app.command("replay")
def replay_cmd(
    source: Annotated[str, typer.Option("--source", "-s", help="The source whose entries to replay.")],
    stream: StreamFilter = None, reason: ReasonFilter = None,
    entry: Annotated[list[int] | None, typer.Option("--id", help="Only these entries (repeatable).")] = None,
    warehouse: WarehouseOpt = None, connectors: ConnectorsOpt = None,
) -> None:
    """Land the open entries that pass the stream's current SCHEMA and drift policy now; the
    others stay open with their current reason. Exit code 1 when some still fail."""
    from connectors.replay import replay
    from connectors.runs import SourceBusy
    from hub_cli.diagnostics import fail

    console = cli_console()
    engine = _engine(warehouse)
    try:
        result = replay(engine, source, _drift(source, connectors, console), stream=stream, reason=reason,
                        ids=entry)
    except SourceBusy as exc:
        fail(str(exc))
    for entry_id, why in sorted(result.still_failing.items()):
        console.print(f"entry {entry_id} still fails: {escape(why)}", highlight=False)
    for entry_id, why in sorted(result.skipped.items()):
        console.print(f"entry {entry_id} not replayed: {escape(why)}", highlight=False)
    console.print(f"{source}: {len(result.landed)} replayed and landed, {len(result.superseded)} superseded by "
                  f"a newer version, {len(result.still_failing)} still failing, {len(result.skipped)} not "
                  "replayable", highlight=False)
    if result.still_failing:
        raise typer.Exit(1)


def _drift(source: str, connectors, console):
    """The source's drift policy from the sources file; the defaults when it is not there."""
    from connectors.drift import DriftConfig
    from connectors.sources import SourcesError, load_sources
    from hub_cli.common import settings

    path = settings(None, connectors).connectors_file
    try:
        configured = {s.name: s for s in load_sources(path)}
    except SourcesError as exc:
        console.print(f"note: {escape(str(exc))} — replaying with the default drift policy", highlight=False)
        return DriftConfig()
    if source not in configured:
        console.print(f"note: {escape(source)} is not in {path} — replaying with the default drift policy",
                      highlight=False)
        return DriftConfig()
    return configured[source].drift
