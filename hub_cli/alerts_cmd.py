"""``hub alerts list|send``: the alert outbox and its delivery to the WeCom / DingTalk robots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hub_cli.common import WarehouseOpt, cli_console

app = typer.Typer(help="Alerts to WeCom / DingTalk group robots: list the outbox, send what is due.",
                  no_args_is_help=True)
console = cli_console()

AlertsFileOpt = Annotated[Path | None, typer.Option(
    "--alerts-file", help="Alerts YAML (default: HUB_ALERTS_FILE or quality/alerts.yaml).")]
_STATUS_STYLE = {"sent": "green", "pending": "yellow", "in_digest": "cyan"}


def _config(path: Path | None):
    from hub_cli.diagnostics import fail
    from quality.alerts.config import AlertConfigError, load_alerts_config

    try:
        return load_alerts_config(path)
    except AlertConfigError as exc:
        fail(str(exc))


def _when(moment) -> str:
    from quality.alerts.outbox import aware

    return aware(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@app.command("list")
def list_outbox(
    status: Annotated[str | None, typer.Option(help="Only rows in this status (pending, sent, in_digest).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many rows to show (newest first).")] = 50,
    warehouse: WarehouseOpt = None,
) -> None:
    """The alert outbox, newest first: status, robot, attempts and the last error."""
    from hub_cli.common import settings, warehouse_engine
    from quality.alerts.outbox import listing

    engine = warehouse_engine(settings(warehouse).warehouse_url)
    with engine.connect() as conn:
        rows = listing(conn, status, limit)
    if not rows:
        console.print("the alert outbox is empty" + (f" (status {status})" if status else ""))
        return
    cells = []
    for r in rows:
        style = _STATUS_STYLE.get(r.status, "white")
        state = f"[{style}]{r.status}[/{style}]" + (f" (in {r.digest_id})" if r.digest_id else "")
        timing = _when(r.sent_at) if r.sent_at else (_when(r.next_attempt_at) if r.status == "pending" else "")
        cells.append((str(r.id), state, escape(r.robot), r.category, str(r.level or ""), escape(r.title),
                      str(r.attempts), _when(r.created_at), timing, escape(r.last_error or "")))
    _print_outbox(cells)


# The title and the last error fold onto further lines; every other column is printed whole.
_OUTBOX_COLUMNS = ("id", "status", "robot", "kind", "level", "title", "attempts", "created", "next try / sent",
                   "last error")
_FOLDING = {"title", "last error"}
_FOLD_FLOOR = 12  # the narrowest a folding column is allowed to get


def _print_outbox(cells: list[tuple[str, ...]]) -> None:
    """Print the outbox table so that no column but the title and the error is ever cut.

    The console is made now, not at import: rich reads COLUMNS when a console is made, and an
    import-time console keeps whatever width the environment had then (80 in a pytest-xdist
    worker). When even that width cannot hold the whole columns, the table is printed wider
    (a terminal wraps the line) rather than cut the status."""
    from rich.cells import cell_len
    from rich.text import Text

    out = cli_console()
    table = Table(title="Alert outbox (newest first)", title_justify="left")
    for col in _OUTBOX_COLUMNS:
        table.add_column(col, justify="right" if col in ("id", "level", "attempts") else "left",
                         overflow="fold", no_wrap=col not in _FOLDING)
    for row in cells:
        table.add_row(*row)
    needed = 1 + sum(3 + (_FOLD_FLOOR if col in _FOLDING else max(
        [cell_len(col)] + [cell_len(Text.from_markup(row[i]).plain) for row in cells]))
        for i, col in enumerate(_OUTBOX_COLUMNS))
    if out.width < needed:
        out.width = needed
    out.print(table)


@app.command("send")
def send(
    warehouse: WarehouseOpt = None,
    alerts_file: AlertsFileOpt = None,
    queue: Annotated[bool, typer.Option("--queue/--no-queue",
                                        help="First queue the discrepancy alerts that became due.")] = True,
) -> None:
    """Queue the alerts that became due, then deliver the outbox; exit 1 if a delivery failed
    (failed messages stay in the outbox and are retried by the next send)."""
    from hub_cli.common import settings, warehouse_engine
    from quality.alerts.delivery import send_due
    from quality.alerts.routing import queue_due_alerts

    cfg = _config(alerts_file)
    engine = warehouse_engine(settings(warehouse).warehouse_url)
    if queue:
        with engine.begin() as conn:
            queued = queue_due_alerts(conn, cfg)
        console.print(f"queued {queued.queued} new alerts")
    stats = send_due(engine, cfg)
    digests = f" ({stats.digests} digests carrying {stats.digested})" if stats.digests else ""
    console.print(f"sent {stats.sent}{digests}, failed {stats.failed}, deferred {stats.deferred} (robot rate limit)")
    for line in stats.errors:
        console.print(f"[red]failed:[/red] {escape(line)}", highlight=False)
    if stats.failed:
        raise typer.Exit(1)
