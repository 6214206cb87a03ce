"""The completeness index (business-rules.md, "Data quality"): the share of complete records
(a record is complete when >= ``completeness_threshold`` of its key fields are filled), per
entity, per source system and per owner (the owner of the record's customer)."""

from __future__ import annotations

from collections import defaultdict

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
    """Replace ``data_completeness``. One set-based grouped query over every entity table, per
    (entity, system, customer); the owner of each customer is folded in afterwards from the
    ``customer`` table (a join per row in the query cost several times the scan on SQLite)."""
    parts = []
    for table in metadata.tables.values():
        if "completeness" not in table.c or table is customer_360 or "ref" not in table.c:
            continue
        system = case(*[(table.c.ref.like(f"{s}:%"), s) for s in systems], else_="other")
        cid = table.c.customer_id if "customer_id" in table.c else literal(None)
        parts.append(select(literal(table.name).label("entity"), system.label("system"), cid.label("customer_id"),
                            table.c.completeness))
    rows = union_all(*parts).subquery()
    query = select(rows.c.entity, rows.c.system, rows.c.customer_id, func.count().label("n"),
                   func.sum(case((rows.c.completeness >= threshold, 1), else_=0)).label("ok")
                   ).group_by(rows.c.entity, rows.c.system, rows.c.customer_id)
    owners = dict(conn.execute(select(customer.c.customer_id, customer.c.owner_employee_id)).all())
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for entity, system, cid, n, ok in conn.execute(query).all():
        counts = totals[(entity, system, owners.get(cid) if cid is not None else None)]
        counts[0] += n
        counts[1] += int(ok or 0)
    out = [{"entity": entity, "system": system, "owner_employee_id": owner, "records": n,
            "complete_records": ok, "completeness_index": round(ok / n, 4), "build_id": build_id}
           for (entity, system, owner), (n, ok) in totals.items()]
    conn.execute(delete(data_completeness))
    if out:
        conn.execute(insert(data_completeness), out)
    return len(out)
