"""``hub runs``: the sync history — status, counts, rejects, errors, duration."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_STATUS_STYLE = {"succeeded": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return ""
    seconds = ((_aware(end) or datetime.now(UTC)) - _aware(start)).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def show_runs(console: Console, warehouse: str | None, sources: list[str] | None, limit: int) -> int:
    """Print the latest ``limit`` sync runs (newest first); exit code 0."""
    from sqlalchemy import select

    from hub_cli.common import settings, warehouse_engine
    from hub_core.schema import sync_run

    engine = warehouse_engine(settings(warehouse).warehouse_url)
    query = select(sync_run).order_by(sync_run.c.id.desc()).limit(limit)
    if sources:
        query = query.where(sync_run.c.source.in_(sources))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        console.print("no sync runs yet" + (f" for {', '.join(sources)}" if sources else ""))
        return 0
    table = Table(title="Sync runs (newest first)", title_justify="left")
    for col in ("run", "source", "status", "started", "duration", "read", "landed", "set aside", "error"):
        table.add_column(col, justify="right" if col in ("run", "read", "landed", "set aside") else "left",
                         overflow="fold")
    for row in rows:
        style = _STATUS_STYLE.get(row.status, "white")
        status = f"[{style}]{row.status}[/{style}]" + (" (full)" if row.full_refresh else "")
        started = _aware(row.started_at).astimezone().strftime("%Y-%m-%d %H:%M:%S") if row.started_at else ""
        table.add_row(str(row.id), row.source, status, started, _duration(row.started_at, row.finished_at),
                      f"{row.records_seen:,}", f"{row.records_landed:,}", f"{row.records_rejected:,}",
                      escape(row.error or ""))
    console.print(table)
    return 0
