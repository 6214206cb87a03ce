"""Stable ids: which id each new cluster carries, and the trail of merges, splits and moves.

An id is a registry entry, not a hash of the current members: once issued it is never reused or
deleted. Each cluster takes over the previous id that most of its records carried (largest overlap
first, ties to the older id); a cluster whose records carried no id gets a new one. An old id
that no cluster took over is *merged* into the id that took most of its records (or *retired*
when all its records are gone); records leaving an id that lives on are a *split* (to a new id)
or a *move* (to an existing one). Readers holding an old id follow ``merged_into``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice

from sqlalchemy import Connection, bindparam, select, update

from hub_core.schema_identity import identity_registry, identity_trail
from mappings.identity.store import insert_many

PREFIX = {"customer": "C", "contact": "P"}
_CHUNK = 20000  # new ids' rows inserted at a time


@dataclass
class Assignment:
    ids: list[str]  # cluster number -> id
    issued: list[str] = field(default_factory=list)
    trail: list[dict] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # old id -> id it merged into
    retired: list[str] = field(default_factory=list)
    revived: list[str] = field(default_factory=list)


class Registry:
    """The ids of one entity kind (customer or contact) as the registry table holds them."""

    def __init__(self, conn: Connection, entity: str) -> None:
        self.conn, self.entity = conn, entity
        t = identity_registry
        rows = conn.execute(select(t.c.entity_id, t.c.seq, t.c.status, t.c.merged_into).where(t.c.entity == entity))
        self.rows = {r.entity_id: r for r in rows}
        self.next_seq = max((r.seq for r in self.rows.values()), default=0) + 1

    def current(self, entity_id: str) -> str:
        """Follow ``merged_into`` to the id that lives on now."""
        seen = set()
        while entity_id in self.rows and self.rows[entity_id].merged_into and entity_id not in seen:
            seen.add(entity_id)
            entity_id = self.rows[entity_id].merged_into
        return entity_id

    def issue(self) -> str:
        while True:
            new = f"{PREFIX[self.entity]}{self.next_seq:08d}"
            self.next_seq += 1
            if new not in self.rows:
                return new

    def order(self, entity_id: str) -> tuple[int, str]:
        row = self.rows.get(entity_id)
        return (row.seq if row else 0, entity_id)


def assign(reg: Registry, clusters: list[list[str]], prev: dict[str, str], forced: dict[int, str],
           reasons: dict[str, str]) -> Assignment:
    """Give each cluster an id; ``prev`` maps refs to the id they carried; ``forced`` pins ids
    (link overrides). ``reasons`` explains why a ref ended where it did (for the trail)."""
    ids: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    for n, target in forced.items():
        ids[n] = target
        taken.add(target)
    overlaps = []
    for n, refs in enumerate(clusters):
        if ids[n] is None:
            for old, count in Counter(prev[r] for r in refs if r in prev).items():
                overlaps.append((-count, reg.order(old), n, old))
    for _, _, n, old in sorted(overlaps):
        if ids[n] is None and old not in taken:
            ids[n] = old
            taken.add(old)
    out = Assignment([])
    for n in range(len(clusters)):
        if ids[n] is None:
            ids[n] = reg.issue()
            out.issued.append(ids[n])
    out.ids = ids
    moved: dict[tuple[str, str], list[str]] = defaultdict(list)
    for n, refs in enumerate(clusters):
        for ref in refs:
            old = prev.get(ref)
            if old and old != ids[n]:
                moved[(old, ids[n])].append(ref)
    live = set(ids)
    gone_to: dict[str, Counter] = defaultdict(Counter)
    for (old, new), refs in moved.items():
        gone_to[old][new] += len(refs)
    for old, targets in gone_to.items():
        if old not in live:
            out.merged[old] = min(targets.items(), key=lambda kv: (-kv[1], reg.order(kv[0])))[0]
    for (old, new), refs in sorted(moved.items()):
        event = ("merge" if old in out.merged else "split" if new in out.issued else "move")
        why = sorted({reasons.get(r, "rule") for r in refs})
        out.trail.append({"entity": reg.entity, "old_id": old, "new_id": new, "event": event,
                          "refs": json.dumps(sorted(refs), ensure_ascii=False), "reason": ", ".join(why)})
    known_before = set(prev.values())
    for old in sorted(known_before - live - set(out.merged)):
        out.retired.append(old)
        out.trail.append({"entity": reg.entity, "old_id": old, "new_id": None, "event": "retire", "refs": "[]",
                          "reason": "no source record carries it any more"})
    for entity_id in ids:
        row = reg.rows.get(entity_id)
        if row is not None and row.status != "active":
            out.revived.append(entity_id)
            out.trail.append({"entity": reg.entity, "old_id": entity_id, "new_id": entity_id, "event": "revive",
                              "refs": "[]", "reason": "records carry it again"})
    return out


def persist(reg: Registry, out: Assignment, legacy: set[str], now: datetime) -> int:
    """Write new ids, status changes and the trail; returns the number of rows written."""
    t = identity_registry
    written = 0
    # the new ids' rows made and inserted a chunk at a time (a dict per id was ~0.4 kB, 196k
    # contact ids at 100k customers, all held at once)
    fresh = chain(((i, int(i[1:]) if i[1:].isdigit() else 0) for i in out.issued),
                  ((i, 0) for i in sorted(legacy - set(reg.rows))))
    while chunk := [{"entity": reg.entity, "entity_id": i, "seq": seq, "status": "active", "merged_into": None,
                     "issued_at": now, "updated_at": now} for i, seq in islice(fresh, _CHUNK)]:
        insert_many(reg.conn, t, chunk)
        written += len(chunk)
    # one executemany per kind of status change (an id per row), not a statement per id
    this = (t.c.entity == reg.entity) & (t.c.entity_id == bindparam("b_id"))
    if out.merged:
        reg.conn.execute(update(t).where(this).values(status="merged", merged_into=bindparam("b_into"), updated_at=now),
                         [{"b_id": old, "b_into": new} for old, new in out.merged.items()])
    if out.retired:
        reg.conn.execute(update(t).where(this).values(status="retired", updated_at=now),
                         [{"b_id": old} for old in out.retired])
    if out.revived:
        reg.conn.execute(update(t).where(this).values(status="active", merged_into=None, updated_at=now),
                         [{"b_id": entity_id} for entity_id in out.revived])
    written += len(out.merged) + len(out.retired) + len(out.revived)
    if out.trail:
        insert_many(reg.conn, identity_trail, [{**row, "at": now} for row in out.trail])
        written += len(out.trail)
    return written
