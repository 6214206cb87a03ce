"""Staging: customer records from the current raw records (entity resolution input), and the
``stg_*`` views of the unified model that the reconciliation rules read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection, delete, func, insert, select

from hub_core.schema import raw_record, stg_opportunity, stg_sales_order
from hub_core.schema_unified import opportunity, sales_order
from hub_core.sql import codepoint_order, copy_rows

BATCH = 2000


def iter_current(conn: Connection, source: str, stream: str) -> Iterator[dict]:
    """Stream the current version of every landed record of one stream (bounded memory)."""
    query = (
        select(raw_record.c.data)
        .where(raw_record.c.source == source, raw_record.c.stream == stream, raw_record.c.is_current,
               raw_record.c.deleted_at.is_(None))  # soft-deleted at the source: gone
        .order_by(raw_record.c.id.desc())  # newest first: see latest_per_ref
        .execution_options(yield_per=BATCH)
    )
    for (data,) in conn.execute(query):
        yield orjson.loads(data)


def latest_per_ref(rows: Iterable[dict]) -> Iterator[dict]:
    """One row per ``ref``, the first seen (the newest landed). Streams landed without key
    properties keep every version current, so one natural id can arrive more than once."""
    seen: set[str] = set()
    for row in rows:
        if row["ref"] not in seen:
            seen.add(row["ref"])
            yield row


def insert_rows(conn: Connection, table, rows: list[dict]) -> None:
    """Insert one batch of rows. On PostgreSQL (psycopg) through ``COPY``: an executemany sends a
    statement per row, which made inserts half of a full build; COPY streams the batch. Every
    column of the hub's tables is a plain type psycopg adapts itself; a column missing from the
    rows gets its scalar default, as an INSERT would (a callable default: the INSERT is used)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        conn.execute(insert(table), rows)
        return
    keys = set().union(*(r.keys() for r in rows))
    extra = {}
    for c in table.c:
        if c.name not in keys and c.default is not None:
            if not c.default.is_scalar:
                conn.execute(insert(table), rows)
                return
            extra[c.name] = c.default.arg
    cols = [c.name for c in table.c if c.name in keys or c.name in extra]
    copy_rows(conn, table.name, cols, (tuple(row[c] if c in row else extra.get(c) for c in cols) for row in rows))


def insert_batched(conn: Connection, table, rows: Iterable[dict]) -> int:
    """Insert rows (streamed) in batches; returns how many."""
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            insert_rows(conn, table, batch)
            count += len(batch)
            batch = []
    if batch:
        insert_rows(conn, table, batch)
        count += len(batch)
    return count


def _first(value):
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value not in (None, "") else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEGACY_STATUS = {"open": "in_progress", "won": "won", "lost": "lost"}


def _ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds of an instant (SQLite hands instants back naive, in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _by_ref(conn: Connection, query, ref):
    """``query`` ordered by ``ref`` in code-point order (what Python's ``<`` on str is)."""
    return conn.execute(query.order_by(codepoint_order(conn, ref)).execution_options(yield_per=BATCH))


def sync_sorted(conn: Connection, table, desired: Iterator[dict], key: str = "ref") -> int:
    """Make ``table`` hold exactly ``desired`` (dicts in ``key`` order, code points), writing
    only differences: rows gone or changed are deleted, new or changed ones inserted. Both sides
    are streamed side by side; returns the number of desired rows.

    PostgreSQL's cursor reads the table as it was when opened, so writes go out in batches as the
    merge goes. SQLite's may see rows written during its scan: there the writes wait until the
    existing rows are read (memory then grows with the rows that differ, not with the table)."""
    col = table.c[key]
    existing = (dict(r._mapping) for r in _by_ref(conn, select(table), col))
    defer = conn.dialect.name == "sqlite"
    stale: list = []
    fresh: list[dict] = []
    count = 0
    old = next(existing, None)

    def flush() -> None:
        for i in range(0, len(stale), 500):  # deletes first: a changed row's insert needs its old one gone
            conn.execute(delete(table).where(col.in_(stale[i:i + 500])))
        for i in range(0, len(fresh), BATCH):
            insert_rows(conn, table, fresh[i:i + BATCH])
        stale.clear()
        fresh.clear()

    for row in desired:
        count += 1
        k = row[key]
        while old is not None and old[key] < k:
            stale.append(old[key])
            old = next(existing, None)
        if old is not None and old[key] == k:
            if any(old.get(c) != v for c, v in row.items()):
                stale.append(k)
                fresh.append(row)
            old = next(existing, None)
        else:
            fresh.append(row)
        if (len(stale) >= BATCH or len(fresh) >= BATCH) and not (defer and old is not None):
            flush()
    for rest in ([old] if old is not None else []) + list(existing):
        stale.append(rest[key])
    flush()
    return count


def _restage(conn: Connection, table, query, ref, refs: set[str], convert) -> None:
    """Rows of ``refs`` only: deleted, then inserted afresh from ``query`` (an incremental build)."""
    ordered = sorted(refs)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i:i + 500]
        conn.execute(delete(table).where(table.c.ref.in_(chunk)))
        insert_rows(conn, table, [convert(r) for r in conn.execute(query.where(ref.in_(chunk)))])


def _count(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _opportunity_row(r) -> dict:
    return {"ref": r.ref, "opp_id": r.ref.split(":", 2)[-1], "account_ref": r.customer_ref,
            "customer_id": r.customer_id, "name": r.name, "amount_cents": r.amount_cents,
            "status": _LEGACY_STATUS.get(r.status, "other"), "stage": r.stage,
            "close_ms": _ms(r.close_at), "close_day": r.close_day, "last_modified_ms": _ms(r.modified_at),
            "stage_changed_ms": _ms(r.stage_changed_at), "owner_employee_id": r.owner_employee_id,
            "is_deleted": r.is_deleted}


def stage_opportunities(conn: Connection, refs: set[str] | None = None) -> int:
    """``stg_opportunity`` (read by the reconciliation rules) derived from the unified
    ``opportunity`` table: same rows, instants as epoch ms, legacy status names. Only rows that
    differ are written; with ``refs`` (an incremental build) only those rows are looked at."""
    if refs is not None:
        _restage(conn, stg_opportunity, select(opportunity), opportunity.c.ref, refs, _opportunity_row)
        return _count(conn, stg_opportunity)
    rows = (_opportunity_row(r) for r in _by_ref(conn, select(opportunity), opportunity.c.ref))
    return sync_sorted(conn, stg_opportunity, rows)


def stage_sales_orders(conn: Connection, refs: set[str] | None = None) -> int:
    """``stg_sales_order`` (read by the reconciliation rules) derived from ``sales_order``;
    only rows that differ are written (with ``refs``: only those rows are looked at)."""
    s = sales_order.c
    query = select(s.ref, s.code, s.order_day, s.state, s.customer_ref.label("u8_customer_ref"), s.customer_id,
                   s.amount_cents, s.owner_employee_id)
    if refs is not None:
        _restage(conn, stg_sales_order, query, s.ref, refs, lambda r: dict(r._mapping))
        return _count(conn, stg_sales_order)
    return sync_sorted(conn, stg_sales_order, (dict(r._mapping) for r in _by_ref(conn, query, s.ref)))
