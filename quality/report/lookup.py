"""Business context of a discrepancy: what a manager needs to recognise the deal or document.

The only place that knows where deal names, stages, close dates and order codes live. Today they
come from the staging tables (``stg_opportunity``, ``stg_sales_order``); when the unified model
lands, re-point ``business_context`` (and ``managers_of``) at it — nothing else changes.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from hub_core.schema import stg_employee, stg_opportunity, stg_sales_order
from hub_core.sql import among

# refs per IN list: few round trips for a big report (SQLite >= 3.32 takes 32766 parameters,
# PostgreSQL 65535)
_BATCH = 5000


def _chunks(values: list[str]):
    for i in range(0, len(values), _BATCH):
        yield values[i:i + _BATCH]


def business_context(conn: Connection, refs: list[str]) -> dict[str, dict]:
    """Per ref: ``{"deal", "stage", "close_date"}`` for opportunities, ``{"code", "date"}`` for orders.

    Refs of other documents (dispatch notes, receivables, receipts, ...) carry their document code
    as the id part of the ref, so callers use that directly; unknown refs are simply absent.
    """
    refs = sorted(set(refs))
    found: dict[str, dict] = {}
    o = stg_opportunity.c
    s = stg_sales_order.c
    for chunk in _chunks(refs):
        # one text parameter on PostgreSQL (a cached statement, no per-value adaptation); IN elsewhere
        for r in conn.execute(select(o.ref, o.name, o.stage, o.close_day).where(among(o.ref, chunk))):
            found[r.ref] = {"deal": r.name, "stage": r.stage, "close_date": r.close_day}
        for r in conn.execute(select(s.ref, s.code, s.order_day).where(among(s.ref, chunk))):
            found[r.ref] = {"code": r.code, "date": r.order_day}
    return found


def document_code(ref: str) -> str:
    """The natural id part of ``<system>:<object>:<id>`` (the id may itself contain colons)."""
    parts = ref.split(":", 2)
    return parts[2] if len(parts) == 3 else ref


def managers_of(conn: Connection, owners: set[str]) -> dict[str, str]:
    """Owner name -> their manager's name, from the employee directory.

    Used only while ``discrepancy`` has no ``manager`` column of its own. A name shared by two
    employees is ambiguous and gets no manager rather than a wrong one.
    """
    e = stg_employee.c
    rows = conn.execute(select(e.employee_id, e.name, e.leader_employee_id)).all()
    by_id = {r.employee_id: r for r in rows}
    by_name: dict[str, list] = {}
    for r in rows:
        by_name.setdefault(r.name, []).append(r)
    result = {}
    for owner in owners:
        people = by_name.get(owner, [])
        if len(people) == 1 and people[0].leader_employee_id in by_id:
            result[owner] = by_id[people[0].leader_employee_id].name
    return result
