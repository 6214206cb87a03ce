"""Keep discrepancies across runs so that their history stays true.

- new ones open (``first_seen`` = this run);
- persisting ones age: ``first_seen`` kept, ``last_seen`` moves, an acknowledged one stays acknowledged;
- vanished ones resolve (``resolved_at`` = this run);
- a resolved one that comes back reopens (``first_seen`` kept, ``reopened_at`` = this run).
Only the rules that ran are touched: a held-back rule's items stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from hub_core.schema import customer, discrepancy
from hub_core.schema_unified import employee
from hub_core.sql import among
from quality.rules.base import Candidate

_CHUNK = 500
_LOOKUP_CHUNK = 5000  # customer ids per IN list of the lookup (a read: few round trips)


@dataclass
class PersistStats:
    """What a run changed: new, persisting, reopened and resolved items, overall and per rule."""

    new: int = 0
    persisting: int = 0
    reopened: int = 0
    resolved: int = 0
    per_rule: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, rule: str, what: str, n: int = 1) -> None:
        setattr(self, what, getattr(self, what) + n)
        bucket = self.per_rule.setdefault(rule, {"new": 0, "persisting": 0, "reopened": 0, "resolved": 0})
        bucket[what] += n


def _utc(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def fingerprint(rule: str, anchor: str) -> str:
    """Stable across runs and databases: SHA-256 of rule id and anchor ref."""
    return hashlib.sha256(f"{rule}|{anchor}".encode()).hexdigest()


def _lookups(conn: Connection, found: list[Candidate]):
    cids = sorted({c.customer_id for c in found if c.customer_id})
    customers = {}
    for i in range(0, len(cids), _LOOKUP_CHUNK):
        customers.update({r.customer_id: (r.name, r.owner_employee_id) for r in conn.execute(
            select(customer.c.customer_id, customer.c.name, customer.c.owner_employee_id)
            .where(among(customer.c.customer_id, cids[i:i + _LOOKUP_CHUNK])))})
    e = employee.c
    people = {r.employee_id: (r.name, r.region, r.manager_employee_id)
              for r in conn.execute(select(e.employee_id, e.name, e.region, e.manager_employee_id))}
    return customers, people


def enrich(conn: Connection, found: list[Candidate], as_of: datetime) -> list[dict]:
    """Discrepancy rows for the candidates: customer name, owner (the candidate's, else the
    customer's), owner's manager and region, fingerprint."""
    customers, people = _lookups(conn, found)
    rows = []
    for c in found:
        name, customer_owner = customers.get(c.customer_id, (None, None))
        owner_id = c.owner_employee_id or customer_owner
        owner, region, manager_id = people.get(owner_id, (None, None, None))
        manager = people.get(manager_id, (None,))[0] if manager_id else None
        rows.append({
            "discrepancy_id": c.discrepancy_id, "rule": c.rule, "severity": c.severity,
            "customer_id": c.customer_id, "customer_name": name, "owner": owner, "owner_employee_id": owner_id,
            "manager": manager, "region": region, "amount_cents": c.amount_cents,
            "refs": json.dumps(c.refs, ensure_ascii=False), "fingerprint": fingerprint(c.rule, c.refs[0]),
            "last_seen": as_of,
        })
    return rows


_MUTABLE = ("severity", "customer_id", "customer_name", "owner", "owner_employee_id", "manager", "region",
            "amount_cents", "refs", "fingerprint", "last_seen")


def persist(conn: Connection, found: list[Candidate], rules_run: list[str], as_of: datetime) -> tuple[PersistStats,
                                                                                                    list[dict]]:
    """Merge this run's findings into ``discrepancy`` for the rules that ran. Returns the stats and
    the items as now stored (with their status, first_seen, resolved_at)."""
    stats = PersistStats()
    d = discrepancy.c
    cols = [d.discrepancy_id, d.status, d.first_seen, *(d[k] for k in _MUTABLE)]
    known = {r.discrepancy_id: r for r in conn.execute(select(*cols).where(d.rule.in_(rules_run)))} if rules_run else {}
    inserts, persisting, reopening, touched = [], [], [], []
    items = enrich(conn, found, as_of)
    for row in items:
        prior = known.get(row["discrepancy_id"])
        if prior is None:
            row.update(first_seen=as_of, resolved_at=None, reopened_at=None, status="open")
            inserts.append(row)
            stats.count(row["rule"], "new")
        elif prior.status == "resolved":
            row.update(first_seen=prior.first_seen, resolved_at=None, reopened_at=as_of, status="open")
            reopening.append(row)
            stats.count(row["rule"], "reopened")
        else:
            row.update(first_seen=prior.first_seen, resolved_at=None, status=prior.status)
            unchanged = all(getattr(prior, k) == row[k] for k in _MUTABLE if k != "last_seen")
            if not unchanged:
                persisting.append(row)
            elif _utc(prior.last_seen) != as_of:  # a re-run as of the same time has nothing to move
                touched.append(row)
            stats.count(row["rule"], "persisting")
    for i in range(0, len(inserts), _CHUNK):
        conn.execute(insert(discrepancy), inserts[i:i + _CHUNK])
    by_id = update(discrepancy).where(d.discrepancy_id == bindparam("b_id"))
    ids = [r["discrepancy_id"] for r in touched]  # only last_seen moves: one statement per chunk
    for i in range(0, len(ids), _CHUNK):
        conn.execute(update(discrepancy).where(d.discrepancy_id.in_(ids[i:i + _CHUNK])).values(last_seen=as_of))
    if persisting:
        conn.execute(by_id.values({k: bindparam(f"v_{k}") for k in _MUTABLE}),
                     [{"b_id": r["discrepancy_id"], **{f"v_{k}": r[k] for k in _MUTABLE}} for r in persisting])
    if reopening:
        cols = (*_MUTABLE, "status", "resolved_at", "reopened_at")
        conn.execute(by_id.values({k: bindparam(f"v_{k}") for k in cols}),
                     [{"b_id": r["discrepancy_id"], **{f"v_{k}": r[k] for k in cols}} for r in reopening])
    seen = {r["discrepancy_id"] for r in items}
    gone = [(did, r) for did, r in known.items() if r.status != "resolved" and did not in seen]
    gone_ids = [did for did, _ in gone]
    for i in range(0, len(gone_ids), _CHUNK):
        conn.execute(update(discrepancy).where(d.discrepancy_id.in_(gone_ids[i:i + _CHUNK]))
                     .values(status="resolved", resolved_at=as_of))
    for did in gone_ids:
        stats.count(did.split("|", 1)[0], "resolved")
    return stats, items
