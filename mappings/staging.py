"""Staging: customer records from the current raw records (entity resolution input), and the
``stg_*`` views of the unified model that the reconciliation rules read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import orjson
from sqlalchemy import Connection, insert, select

from hub_core.schema import raw_record, stg_opportunity, stg_sales_order
from hub_core.schema_unified import opportunity, sales_order

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


def insert_batched(conn: Connection, table, rows: Iterable[dict]) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _first(value):
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value not in (None, "") else None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LEGACY_STATUS = {"open": "in_progress", "won": "won", "lost": "lost"}


def _ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds of an instant (SQLite hands instants back naive, in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def stage_opportunities(conn: Connection) -> int:
    """``stg_opportunity`` (read by the reconciliation rules) derived from the unified
    ``opportunity`` table: same rows, instants as epoch ms, legacy status names."""
    o = opportunity.c

    def rows():
        for r in conn.execute(select(opportunity).order_by(o.ref).execution_options(yield_per=BATCH)):
            yield {"ref": r.ref, "opp_id": r.ref.split(":", 2)[-1], "account_ref": r.customer_ref,
                   "customer_id": r.customer_id, "name": r.name, "amount_cents": r.amount_cents,
                   "status": _LEGACY_STATUS.get(r.status, "other"), "stage": r.stage,
                   "close_ms": _ms(r.close_at), "close_day": r.close_day, "last_modified_ms": _ms(r.modified_at),
                   "stage_changed_ms": _ms(r.stage_changed_at), "owner_employee_id": r.owner_employee_id,
                   "is_deleted": r.is_deleted}

    return insert_batched(conn, stg_opportunity, rows())


def stage_sales_orders(conn: Connection) -> int:
    """``stg_sales_order`` (read by the reconciliation rules) derived from ``sales_order``."""
    s = sales_order.c
    query = select(s.ref, s.code, s.order_day, s.state, s.customer_ref.label("u8_customer_ref"), s.customer_id,
                   s.amount_cents, s.owner_employee_id)
    return insert_batched(conn, stg_sales_order, (dict(r._mapping) for r in conn.execute(query)))
