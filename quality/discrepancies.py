"""Keep discrepancies across runs: new ones open, persisting ones age, vanished ones resolve."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from hub_core.schema import customer, discrepancy, stg_employee
from quality.rules.base import Candidate


@dataclass
class PersistStats:
    new: int = 0
    persisting: int = 0
    resolved: int = 0


def persist(conn: Connection, found: list[Candidate], rules_run: list[str], as_of: datetime) -> PersistStats:
    """Merge this run's findings into ``discrepancy`` for the rules that ran."""
    stats = PersistStats()
    names = dict(conn.execute(select(customer.c.customer_id, customer.c.name)).all())
    people = {r.employee_id: (r.name, r.region) for r in conn.execute(
        select(stg_employee.c.employee_id, stg_employee.c.name, stg_employee.c.region))}
    d = discrepancy.c
    known = {r.discrepancy_id: r for r in conn.execute(select(d.discrepancy_id, d.status).where(d.rule.in_(rules_run)))}
    inserts, updates = [], []
    for c in found:
        owner, region = people.get(c.owner_employee_id, (None, None))
        row = {"severity": c.severity, "customer_id": c.customer_id, "customer_name": names.get(c.customer_id),
               "owner": owner, "region": region, "amount_cents": c.amount_cents,
               "refs": json.dumps(c.refs, ensure_ascii=False), "last_seen": as_of}
        prior = known.get(c.discrepancy_id)
        if prior is None:
            inserts.append({"discrepancy_id": c.discrepancy_id, "rule": c.rule, "first_seen": as_of,
                            "resolved_at": None, "status": "open", **row})
            stats.new += 1
        else:
            if prior.status == "resolved":  # it came back: a new occurrence
                row.update(first_seen=as_of, status="open", resolved_at=None)
                stats.new += 1
            else:
                stats.persisting += 1
            updates.append((c.discrepancy_id, row))
    if inserts:
        conn.execute(insert(discrepancy), inserts)
    for did, row in updates:
        conn.execute(update(discrepancy).where(d.discrepancy_id == did).values(**row))
    seen = {c.discrepancy_id for c in found}
    gone = [did for did, r in known.items() if r.status != "resolved" and did not in seen]
    for i in range(0, len(gone), 500):
        conn.execute(update(discrepancy).where(d.discrepancy_id.in_(gone[i:i + 500]))
                     .values(status="resolved", resolved_at=as_of))
    stats.resolved = len(gone)
    return stats
