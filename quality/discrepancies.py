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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from hub_core.schema import customer, discrepancy
from hub_core.schema_unified import employee
from hub_core.sql import among
from quality.rules.base import Candidate
from quality.rules.common import of_scope

_CHUNK = 500
_BATCH = 5000  # candidates merged at a time (Persister)
_LOOKUP_CHUNK = 5000  # customer ids per IN list of the lookup (a read: few round trips)
# ``json.dumps(refs, ensure_ascii=False)`` made a new encoder per call (any non-default argument
# does); one encoder, the same text
_refs_json = json.JSONEncoder(ensure_ascii=False).encode


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


def fingerprint(rule: str, anchor: str) -> str:
    """Stable across runs and databases: SHA-256 of rule id and anchor ref."""
    return hashlib.sha256(f"{rule}|{anchor}".encode()).hexdigest()


def _people(conn: Connection) -> dict[str, tuple]:
    """employee id -> (name, region, manager id): every employee (a few hundred rows)."""
    e = employee.c
    return {r.employee_id: (r.name, r.region, r.manager_employee_id)
            for r in conn.execute(select(e.employee_id, e.name, e.region, e.manager_employee_id))}


def _customers(conn: Connection, found: list[Candidate]) -> dict[str, tuple]:
    """customer id -> (name, owner id) of the candidates' customers."""
    cids = sorted({c.customer_id for c in found if c.customer_id})
    out = {}
    for i in range(0, len(cids), _LOOKUP_CHUNK):
        out.update({r.customer_id: (r.name, r.owner_employee_id) for r in conn.execute(
            select(customer.c.customer_id, customer.c.name, customer.c.owner_employee_id)
            .where(among(customer.c.customer_id, cids[i:i + _LOOKUP_CHUNK])))})
    return out


def enrich(conn: Connection, found: list[Candidate], as_of: datetime, people: dict | None = None) -> list[dict]:
    """Discrepancy rows for the candidates: customer name, owner (the candidate's, else the
    customer's), owner's manager and region, fingerprint. ``people``: ``_people`` read once per run."""
    customers = _customers(conn, found)
    people = _people(conn) if people is None else people
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
            "refs": _refs_json(c.refs), "fingerprint": fingerprint(c.rule, c.refs[0]),
            "last_seen": as_of,
        })
    return rows


_MUTABLE = ("severity", "customer_id", "customer_name", "owner", "owner_employee_id", "manager", "region",
            "amount_cents", "refs", "fingerprint", "last_seen")
_COMPARED = _MUTABLE[:-1]  # what makes a persisting item's row change (``last_seen`` moves per rule)


class Persister:
    """Merges one run's findings into ``discrepancy``, one rule at a time and ``batch`` candidates
    at a time: memory follows a batch (plus the ids of one rule's open items), not the whole run's
    findings - 147k items at 1M orders (bench/rules.py ``--steps``). Every item's end state is
    what merging the whole run at once gives: each id belongs to one rule, and an item is
    resolved only once its rule's candidates have all been seen."""

    def __init__(self, conn: Connection, as_of: datetime, *, keep_items: bool = False, batch: int = _BATCH,
                 scope=None) -> None:
        self.conn, self.as_of, self.keep_items, self.batch = conn, as_of, keep_items, batch
        # a scoped run (quality/scope.py): its table of customers; the rules found only their items
        # (and those without a customer), so only those can be unseen
        self.scope = scope
        self.stats = PersistStats()
        self.items: list[dict] = []  # the stored rows, only with ``keep_items`` (what-if callers, tests)
        self._people = _people(conn)

    def rule(self, rule: str, found: Iterable[Candidate]) -> int:
        """Merge the candidates of ``rule`` (all of them: its open items not among them resolve);
        returns how many there were."""
        seen: set[str] = set()
        batch: list[Candidate] = []
        count = 0
        for c in found:
            count += 1
            batch.append(c)
            if len(batch) >= self.batch:
                self._merge(batch, seen)
                batch = []
        if batch:
            self._merge(batch, seen)
        self._resolve_unseen(rule, seen)
        self._move_last_seen(rule)
        return count

    def _merge(self, found: list[Candidate], seen: set[str]) -> None:
        d, as_of, stats = discrepancy.c, self.as_of, self.stats
        items = enrich(self.conn, found, as_of, self._people)
        ids = [r["discrepancy_id"] for r in items]
        cols = [d.discrepancy_id, d.status, d.first_seen, *(d[k] for k in _COMPARED)]
        # id -> (status, first_seen, *compared values): the stored values compared as one tuple
        known = {r[0]: r[1:] for r in self.conn.execute(select(*cols).where(among(d.discrepancy_id, ids)))}
        inserts, persisting, reopening = [], [], []
        for row in items:
            prior = known.get(row["discrepancy_id"])
            if prior is None:
                row.update(first_seen=as_of, resolved_at=None, reopened_at=None, status="open")
                inserts.append(row)
                stats.count(row["rule"], "new")
            elif prior[0] == "resolved":
                row.update(first_seen=prior[1], resolved_at=None, reopened_at=as_of, status="open")
                reopening.append(row)
                stats.count(row["rule"], "reopened")
            else:
                row.update(first_seen=prior[1], resolved_at=None, status=prior[0])
                unchanged = prior[2:] == tuple(map(row.__getitem__, _COMPARED))
                if not unchanged:  # (an unchanged one only ages: _move_last_seen, once per rule)
                    persisting.append(row)
                stats.count(row["rule"], "persisting")
        self._write(inserts, persisting, reopening)
        seen.update(ids)
        if self.keep_items:
            self.items.extend(items)

    def _write(self, inserts: list[dict], persisting: list[dict], reopening: list[dict]) -> None:
        conn, d = self.conn, discrepancy.c
        for i in range(0, len(inserts), _CHUNK):
            conn.execute(insert(discrepancy), inserts[i:i + _CHUNK])
        by_id = update(discrepancy).where(d.discrepancy_id == bindparam("b_id"))
        if persisting:
            conn.execute(by_id.values({k: bindparam(f"v_{k}") for k in _MUTABLE}),
                         [{"b_id": r["discrepancy_id"], **{f"v_{k}": r[k] for k in _MUTABLE}} for r in persisting])
        if reopening:
            cols = (*_MUTABLE, "status", "resolved_at", "reopened_at")
            conn.execute(by_id.values({k: bindparam(f"v_{k}") for k in cols}),
                         [{"b_id": r["discrepancy_id"], **{f"v_{k}": r[k] for k in cols}} for r in reopening])

    def _resolve_unseen(self, rule: str, seen: set[str]) -> None:
        d = discrepancy.c
        open_ids = self.conn.execute(select(d.discrepancy_id).where(
            d.rule == rule, d.status != "resolved", of_scope(d.customer_id, self.scope))).scalars()
        gone = [did for did in open_ids if did not in seen]
        for i in range(0, len(gone), _LOOKUP_CHUNK):
            self.conn.execute(update(discrepancy).where(among(d.discrepancy_id, gone[i:i + _LOOKUP_CHUNK]))
                              .values(status="resolved", resolved_at=self.as_of))
        if gone:
            self.stats.count(rule, "resolved", len(gone))

    def settle_scoped(self, rule: str) -> int:
        """After a scoped run's ``rule``: its open items are what a full run would have found (the
        items out of scope persist unchanged), so count them, and count as persisting those not
        new nor reopened: the same figures as a full run's. Returns the open items."""
        d = discrepancy.c
        open_now = self.conn.execute(select(func.count()).select_from(discrepancy)
                                     .where(d.rule == rule, d.status != "resolved")).scalar_one()
        per = self.stats.per_rule.get(rule, {"new": 0, "persisting": 0, "reopened": 0, "resolved": 0})
        persisting = open_now - per["new"] - per["reopened"]
        if persisting != per["persisting"]:  # (a full run's stats name only the rules it counted in)
            self.stats.count(rule, "persisting", persisting - per["persisting"])
        return open_now

    def _move_last_seen(self, rule: str) -> None:
        """Once every candidate of ``rule`` is merged and its unseen items resolved, every item of
        it still open was found by this run: ``last_seen`` moves to the run's time on those not
        written already (the unchanged ones). One set-based UPDATE per rule; it was one per 500
        ids, ~38 statements an incremental reconcile at 10k customers (18.7k open items). A re-run
        as of the same time moves nothing."""
        d = discrepancy.c
        self.conn.execute(update(discrepancy).where(d.rule == rule, d.status != "resolved", d.last_seen != self.as_of)
                          .values(last_seen=self.as_of))

