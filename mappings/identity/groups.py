"""The engine's union-find under the hard constraints, with each group's state as columns.

Split from :mod:`mappings.identity.engine` (the stages stay there). A group is its root record's
index; what the constraints read of it sits in lists indexed by that root (its credit code,
scope, places, branch tags, members) and a bytearray (placed by an IT override), instead of an
object per record: most records stay alone, and a slotted object each was ~90 bytes (277k at
100k customers). A merged group's root keeps the joined state; the other root's entries are
left as they were and never read again (a record that is no root is only ever ``find``-ed).
"""

from __future__ import annotations

from functools import cache

from mappings.identity.scoring import branch_tag
from mappings.regions import places_compatible

# A group's places and branch tags are frozensets, shared while a group has one record (most
# are "" and no place): a set of its own per record cost ~0.4 kB each, at 277k records.
_NONE: frozenset = frozenset()


@cache
def _one(value: str) -> frozenset:
    return frozenset((value,))


def listed(members: list[int] | int) -> list[int]:
    """A group's members as a list (a group of one record holds that record's index)."""
    return [members] if type(members) is int else members


class ConstrainedUnion:
    """Union-find over record indices that never joins what the hard constraints forbid
    (different valid codes, scopes, branch tags or incompatible places; a group an IT override
    placed). Mixed into :class:`engine.Engine`, which keeps ``refs`` and ``joins``."""

    refs: list[str]
    joins: dict

    def _init_groups(self, codes: list, scopes: list, keys: list, dead: list, pinned) -> list[int]:
        """Every record its own group (``codes``, ``scopes``: the records' columns, kept as the
        groups' own; ``pinned``: whether each record was placed by an override). Returns the
        parent list, whose int objects the block index shares."""
        n = len(codes)
        self.parent = parent = list(range(n))
        # the records of a root, in the order they joined: a group of one holds its record's
        # index itself (the parent list's int), a list once it merges; None once merged away
        self.members: list[list[int] | int | None] = parent.copy()
        self.codes, self.scopes = codes, scopes
        self.pinned = bytearray(pinned)
        self.places: list[frozenset] = [_NONE] * n
        self.tags: list[frozenset] = [_NONE] * n  # branch tags of live keys ("" = not a branch)
        places, tags = self.places, self.tags
        for i, key in enumerate(keys):
            if key and not dead[i]:
                if key.place:
                    places[i] = _one(key.place)
                tags[i] = _one(branch_tag(key))
        return parent

    def find(self, i: int) -> int:
        """The root of record ``i``'s group (halving the path on the way)."""
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def compatible(self, a: int, b: int) -> bool:
        """Whether the groups of records ``a`` and ``b`` may be one (the same group: yes)."""
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if self.pinned[a] or self.pinned[b]:
            return False
        codes, scopes, tags = self.codes, self.scopes, self.tags
        if codes[a] and codes[b] and codes[a] != codes[b]:
            return False
        if scopes[a] and scopes[b] and scopes[a] != scopes[b]:
            return False
        if tags[a] and tags[b] and tags[a] != tags[b]:
            return False
        return all(places_compatible(p, q) for p in self.places[a] for q in self.places[b])

    def union(self, keep: int, other: int, join) -> bool:
        """Merge ``other``'s cluster into ``keep``'s if the constraints allow; True when merged."""
        a, b = self.find(keep), self.find(other)
        if a == b:
            return True
        if not self.compatible(a, b):
            return False
        # The record the rule fired for is labelled with it (the other side if it already had a rule).
        joins, refs = self.joins, self.refs
        seed = (refs[other] if joins[refs[other]].rule == "own"
                else refs[keep] if joins[refs[keep]].rule == "own" else None)
        members = self.members
        ma, mb = members[a], members[b]
        if (1 if type(ma) is int else len(ma)) < (1 if type(mb) is int else len(mb)):
            a, b, ma, mb = b, a, mb, ma
        self.parent[b] = a
        if type(ma) is int:
            ma = members[a] = [ma]
        if type(mb) is int:
            ma.append(mb)
        else:
            ma += mb
        members[b] = None
        codes, scopes = self.codes, self.scopes
        codes[a] = codes[a] or codes[b]
        scopes[a] = scopes[a] or scopes[b]
        # a new frozenset only when the other side adds to it (``|=`` made two per merge, ~0.4 kB)
        places, tags = self.places, self.tags
        if not places[b] <= places[a]:
            places[a] = places[a] | places[b] if places[a] else places[b]
        if not tags[b] <= tags[a]:
            tags[a] = tags[a] | tags[b] if tags[a] else tags[b]
        if seed:
            joins[seed] = join
        return True
