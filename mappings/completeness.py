"""The completeness index (business-rules.md, "Data quality"): the share of complete records
(a record is complete when >= ``completeness_threshold`` of its key fields are filled), per
entity, per source system and per owner (the owner of the record's customer)."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)

from hub_core.schema import customer, metadata
from hub_core.schema_unified import customer_360, data_completeness


def rebuild_completeness(conn: Connection, threshold: float, systems: list[str], build_id: int) -> int:
    """Replace ``data_completeness``; one set-based grouped query over every entity table."""
    parts = []
    for table in metadata.tables.values():
        if "completeness" not in table.c or table is customer_360 or "ref" not in table.c:
            continue
        system = case(*[(table.c.ref.like(f"{s}:%"), s) for s in systems], else_="other")
        if "customer_id" in table.c:  # a join, not a sub-select per row: the owner of the row's customer
            owner, source = customer.c.owner_employee_id, table.outerjoin(
                customer, customer.c.customer_id == table.c.customer_id)
        else:
            owner, source = literal(None), table
        parts.append(select(literal(table.name).label("entity"), system.label("system"), owner.label("owner"),
                            table.c.completeness).select_from(source))
    rows = union_all(*parts).subquery()
    query = select(rows.c.entity, rows.c.system, rows.c.owner, func.count().label("n"),
                   func.sum(case((rows.c.completeness >= threshold, 1), else_=0)).label("ok")
                   ).group_by(rows.c.entity, rows.c.system, rows.c.owner)
    out = [{"entity": r.entity, "system": r.system, "owner_employee_id": r.owner, "records": r.n,
            "complete_records": int(r.ok or 0), "completeness_index": round((r.ok or 0) / r.n, 4),
            "build_id": build_id} for r in conn.execute(query)]
    conn.execute(delete(data_completeness))
    if out:
        conn.execute(insert(data_completeness), out)
    return len(out)
