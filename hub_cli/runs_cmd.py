"""``hub runs``: the sync history — status, counts, rejects, errors, duration — then the schema
drift events of the runs shown (what drifted, how many records, what the policy did)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_STATUS_STYLE = {"succeeded": "green", "partial": "yellow", "failed": "red", "interrupted": "yellow",
                 "running": "cyan"}
_DRIFT_ROWS = 30  # drift events listed under the runs table (the rest: counted)


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
    numbers = ("run", "read", "landed", "set aside", "new in quarantine", "dup keys", "drift")
    for col in ("run", "source", "status", "started", "duration", "read", "landed", "set aside",
                "new in quarantine", "dup keys", "drift", "error"):
        table.add_column(col, justify="right" if col in numbers else "left", overflow="fold")
    for row in rows:
        style = _STATUS_STYLE.get(row.status, "white")
        status = f"[{style}]{row.status}[/{style}]" + (" (full)" if row.full_refresh else "")
        started = _aware(row.started_at).astimezone().strftime("%Y-%m-%d %H:%M:%S") if row.started_at else ""
        table.add_row(str(row.id), row.source, status, started, _duration(row.started_at, row.finished_at),
                      f"{row.records_seen:,}", f"{row.records_landed:,}", f"{row.records_rejected:,}",
                      _count(row.records_quarantined), _count(row.duplicate_keys), _count(row.drift_events),
                      escape(row.error or ""))
    console.print(table)
    _print_drift(console, engine, [row.id for row in rows])
    return 0


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"  # None: a run from before these counts existed


def _print_drift(console: Console, engine, run_ids: list[int]) -> None:
    """The schema drift events of the runs shown, newest run first."""
    from sqlalchemy import func, select

    from hub_core.schema_quarantine import schema_drift

    d = schema_drift.c
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(d.sync_run_id.in_(run_ids))).scalar_one()
        rows = conn.execute(select(schema_drift).where(d.sync_run_id.in_(run_ids))
                            .order_by(d.sync_run_id.desc(), d.id).limit(_DRIFT_ROWS)).all()
    if not rows:
        return
    table = Table(title=f"Schema drift ({len(rows)} of {total} events)", title_justify="left")
    for col in ("run", "source", "stream", "field", "change", "records", "action", "example key"):
        table.add_column(col, justify="right" if col in ("run", "records") else "left", overflow="fold")
    for r in rows:
        change = (f"{r.declared} → {r.observed}" if r.kind == "type_change" else f"new field ({r.observed})")
        table.add_row(str(r.sync_run_id), escape(r.source), escape(r.stream), escape(r.field), escape(change),
                      f"{r.records:,}", r.action, escape(r.example_key or ""))
    console.print(table)
