"""Typed staging rows derived from the current raw records of each source."""

from __future__ import annotations

from typing import Iterable, Iterator

import orjson
from sqlalchemy import Connection, insert, select

from hub_core.schema import (
    raw_record,
    stg_employee,
    stg_opportunity,
    stg_sales_order,
)
from mappings.config import MappingConfig
from mappings.normalize import normalize_mobile
from mappings.parse import is_true, ms_to_day, to_cents, to_day, to_int

BATCH = 2000


def iter_current(conn: Connection, source: str, stream: str) -> Iterator[dict]:
    """Stream the current version of every landed record of one stream (bounded memory)."""
    query = (
        select(raw_record.c.data)
        .where(raw_record.c.source == source, raw_record.c.stream == stream, raw_record.c.is_current)
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


class Employees:
    """Employees of all systems, linked by mobile; resolves CRM ids and U8 codes to one id."""

    def __init__(self) -> None:
        self.by_crm: dict[str, str] = {}
        self.by_u8: dict[str, str] = {}
        self.by_wecom: dict[str, str] = {}
        self.rows: dict[str, dict] = {}

    def crm(self, crm_id) -> str | None:
        return self.by_crm.get(_first(crm_id) or "")

    def u8(self, code) -> str | None:
        return self.by_u8.get(str(code)) if code else None


def stage_employees(conn: Connection, cfg: MappingConfig) -> Employees:
    emp = Employees()
    by_mobile: dict[str, str] = {}

    def upsert(eid_hint: str, mobile, **fields) -> str:
        m = normalize_mobile(mobile)
        eid = by_mobile.get(m) if m else None
        if eid is None:
            eid = eid_hint
            emp.rows[eid] = {"employee_id": eid, "name": None, "mobile": m, "region": None,
                             "leader_employee_id": None, "crm_id": None, "u8_code": None, "wecom_userid": None}
            if m:
                by_mobile[m] = eid
        row = emp.rows[eid]
        for key, value in fields.items():
            if value and not row.get(key):
                row[key] = value
        return eid

    leaders: dict[str, str] = {}
    for p in iter_current(conn, cfg.source_for("crm"), "PersonnelObj"):
        pid = str(p.get("_id") or "")
        if not pid:
            continue
        eid = upsert(f"crm:{pid}", p.get("mobile"), name=p.get("name"), region=p.get("main_department"), crm_id=pid)
        emp.by_crm[pid] = eid
        if p.get("leader_id"):
            leaders[eid] = str(p["leader_id"])
    for p in iter_current(conn, cfg.source_for("u8"), "person"):
        code = str(p.get("code") or "")
        if code:
            emp.by_u8[code] = upsert(f"u8:{code}", p.get("mobile"), name=p.get("name"),
                                     region=p.get("deptcode"), u8_code=code)
    for p in iter_current(conn, cfg.source_for("wecom"), "follow_users"):
        uid = str(p.get("userid") or "")
        if uid:
            emp.by_wecom[uid] = upsert(f"wecom:{uid}", p.get("mobile"), name=p.get("name"), wecom_userid=uid)
    for eid, leader in leaders.items():
        emp.rows[eid]["leader_employee_id"] = emp.by_crm.get(leader)
    insert_batched(conn, stg_employee, emp.rows.values())
    return emp


def _crm_deleted(record: dict, cfg: MappingConfig) -> bool:
    return is_true(record.get("is_deleted")) or record.get("life_status") in cfg.crm.deleted_life_status


def stage_opportunities(conn: Connection, cfg: MappingConfig, emp: Employees) -> int:
    def rows():
        for o in iter_current(conn, cfg.source_for("crm"), "NewOpportunityObj"):
            if not o.get("_id"):
                continue
            close_ms = to_int(o.get("close_date"))
            account = _first(o.get("account_id"))
            yield {
                "ref": f"crm:NewOpportunityObj:{o['_id']}", "opp_id": str(o["_id"]),
                "account_ref": f"crm:AccountObj:{account}" if account else None, "customer_id": None,
                "name": o.get("name"), "amount_cents": to_cents(o.get("amount")),
                "status": cfg.crm.sales_status.get(str(o.get("sales_status")), "other"),
                "stage": cfg.crm.sales_stage.get(str(o.get("sales_stage"))),
                "close_ms": close_ms, "close_day": ms_to_day(close_ms, cfg.timezone),
                "last_modified_ms": to_int(o.get("last_modified_time")),
                "stage_changed_ms": to_int(o.get("stg_changed_time")),
                "owner_employee_id": emp.crm(o.get("owner")), "is_deleted": _crm_deleted(o, cfg),
            }

    return insert_batched(conn, stg_opportunity, latest_per_ref(rows()))


def stage_sales_orders(conn: Connection, cfg: MappingConfig, emp: Employees) -> int:
    def rows():
        for o in iter_current(conn, cfg.source_for("u8"), "saleorderlist"):
            if not o.get("code"):
                continue
            yield {
                "ref": f"u8:saleorderlist:{o['code']}", "code": str(o["code"]), "order_day": to_day(o.get("date")),
                "state": o.get("state"),
                "u8_customer_ref": f"u8:customer:{o['custcode']}" if o.get("custcode") else None,
                "customer_id": None, "amount_cents": to_cents(o.get("sum")),
                "owner_employee_id": emp.u8(o.get("personcode")),
            }

    return insert_batched(conn, stg_sales_order, latest_per_ref(rows()))
