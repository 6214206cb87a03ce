"""Staging: customer records from the current raw records (entity resolution input), and the
``stg_*`` views of the unified model that the reconciliation rules read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import orjson
from sqlalchemy import Connection, insert, select

from hub_core.schema import raw_record, stg_customer_record, stg_opportunity, stg_sales_order
from hub_core.schema_unified import opportunity, sales_order
from mappings.config import MappingConfig
from mappings.declarative.casts import clean_text
from mappings.employees import Employees
from mappings.normalize import name_key, normalize_name, normalize_uscc
from mappings.parse import is_true

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


def _customer_row(ref, system, obj, natural_id, name, uscc_raw, u8_code, owner, deleted=False) -> dict:
    # PostgreSQL text cannot hold NUL: strip NUL/control characters before anything is derived.
    name = clean_text(name)[0] if isinstance(name, str) else name
    uscc_raw = clean_text(str(uscc_raw))[0] if uscc_raw else uscc_raw
    ref, natural_id = clean_text(ref)[0], clean_text(natural_id)[0]
    u8_code = clean_text(u8_code)[0] if u8_code else u8_code
    key = name_key(name)
    return {
        "ref": ref, "system": system, "object": obj, "natural_id": natural_id,
        "name": name if isinstance(name, str) else None, "name_norm": normalize_name(name),
        "name_key": key.core if key else None, "name_city": key.place if key else None,
        "uscc": normalize_uscc(uscc_raw), "uscc_raw": str(uscc_raw)[:100] if uscc_raw else None,
        "u8_code": u8_code, "owner_employee_id": owner, "is_deleted": deleted,
    }


def _crm_deleted(record: dict, cfg: MappingConfig) -> bool:
    return is_true(record.get("is_deleted")) or record.get("life_status") in cfg.crm.deleted_life_status


def stage_customer_records(conn: Connection, cfg: MappingConfig, emp: Employees) -> int:
    def rows():
        for a in iter_current(conn, cfg.source_for("crm"), "AccountObj"):
            if not a.get("_id"):
                continue
            yield _customer_row(f"crm:AccountObj:{a['_id']}", "crm", "AccountObj", str(a["_id"]), a.get("name"),
                                a.get(cfg.crm.uscc_field), None, emp.crm(a.get("owner")), _crm_deleted(a, cfg))
        for c in iter_current(conn, cfg.source_for("u8"), "customer"):
            if not c.get("code"):
                continue
            code = str(c["code"])
            yield _customer_row(f"u8:customer:{code}", "u8", "customer", code, c.get("name"),
                                c.get("taxno"), code, emp.u8(c.get("spec_operator")))
        for r in iter_current(conn, cfg.source_for("finance"), "credit_rating"):
            if not r.get("customer_code"):
                continue
            code = str(r["customer_code"])
            yield _customer_row(f"finance:credit_rating:{code}", "finance", "credit_rating", code,
                                r.get("customer_name"), r.get("uscc"), code, None)

    return insert_batched(conn, stg_customer_record, latest_per_ref(rows()))


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
