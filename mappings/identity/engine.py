"""The resolution engine: records in, clusters out, with the rule, score and evidence of each join.

Pure Python on plain records (no database), so the build, the benchmark and the tests share it.
Stages, strongest first (business-rules.md "Matching rules", source-systems.md section 5):

1. the same valid credit code;
2. the same link code (a finance rating and the U8 customer it names);
3. the same name key, when it points to exactly one coded customer, then code-less records
   among themselves by key (a key pointing to several customers is not enough);
4. evidence inside blocks for what is still code-less: name (exact key, U8 abbreviation, a one
   character typo, stronger when the two characters are homophones, fuzzy similarity), shared
   phone numbers (a number several customers share is a switchboard, not evidence), the same
   address, shared contact persons, a mistyped credit code one character off. A join needs
   ``accept`` and a ``margin`` over the runner-up; a best score between ``review`` and
   ``accept`` (or a tie) goes to the review queue with its candidates. How much each piece of
   evidence weighs is :mod:`mappings.identity.scoring`.

Hard constraints hold for every join: different valid codes never merge, different explicit
places never merge, a branch is never its parent (nor another branch); known places that exclude
each other (explicit, or inferred from an address or a landline's area code: cities.py) forbid a
join on name evidence alone. Deleted records follow their company but never attract others.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import attrgetter

from mappings.identity.blocks import (
    BlockIndex,
    block_keys,
    block_members,
    blocks_of,
    deletions,
    too_common,
)
from mappings.identity.cities import clash, location_of, nowhere_among
from mappings.identity.config import Matching
from mappings.identity.engine_model import (  # re-exported: the engine's callers import them from here
    _NAME,
    _OWN,
    BLOCK_FIELDS,
    Candidate,
    Join,
    Rec,
    RecList,
    Result,
)
from mappings.identity.scoring import BRANCH_TAG, branch_tag, score_groups
from mappings.identity.typos import TypoIndex
from mappings.normalize import NameKey
from mappings.regions import places_compatible

__all__ = ["BLOCK_FIELDS", "BRANCH_TAG", "Candidate", "Engine", "Join", "Rec", "RecList", "Result", "paused_gc",
           "resolve"]


# A group's places and branch tags are frozensets, shared while a group has one record (most
# are "" and no place): a set of its own per record cost ~0.4 kB each, at 277k records.
_NONE: frozenset = frozenset()


@cache
def _one(value: str) -> frozenset:
    return frozenset((value,))


def _listed(members: list[int] | int) -> list[int]:
    """A group's members as a list (a group of one record holds that record's index)."""
    return [members] if type(members) is int else members


@dataclass(slots=True)
class _Group:
    # the records, in the order they joined; a group of one record (most, until they merge)
    # holds its record's index itself, not a list of it (~80 bytes a record at init)
    members: list[int] | int
    uscc: str | None = None
    places: frozenset = _NONE
    tags: frozenset = _NONE  # branch tags of live keys ("" = not a branch)
    live: bool = False
    frozen: bool = False  # an IT override placed it: rules never join it, but it still counts
    scope: str | None = None  # see Rec.scope


class Engine:
    """Clusters records under the hard constraints; see the module docstring for the stages."""

    def __init__(self, records, cfg: Matching, frozen: frozenset[str] = frozenset(),
                 big: set | None = None) -> None:
        # Live records first, then by ref: a deterministic order that deleted ones never shape.
        # ``records``: Rec objects, or a full resolution's columns.Columns (a Rec is made from
        # those only when records are compared; the walks over every record read columns).
        if hasattr(records, "engine_order"):
            self.recs = records.engine_order()
        else:
            self.recs = RecList(sorted(records, key=attrgetter("deleted", "ref")))
        recs = self.recs
        self.refs: list[str] = recs.column("ref")
        self.cfg = cfg
        self.parent: list[int] = []  # (filled below with the same int objects the blocks hold)
        # root record -> its group (None once merged into another): a list, not a dict by index
        self.groups: list[_Group | None] = []
        # every record starts as its own ("own", one shared Join), rules replace it when they join
        self.joins: dict[str, Join] = dict.fromkeys(self.refs, _OWN)
        self.review: dict[str, tuple[str, list[tuple[int, float, tuple[str, ...]]]]] = {}
        # block -> live records in it (a record listed once per key it has, as big_blocks counts;
        # blocks.BlockIndex). A record's own blocks are not kept: made again when its group goes
        # looking (_by_evidence).
        groups, parent = self.groups, self.parent
        refs = self.refs
        dead = recs.column("deleted")
        for i, code, key, scope in zip(range(len(refs)), recs.column("uscc"), recs.column("key"),
                                       recs.column("scope")):
            parent.append(i)
            g = _Group(i, code, _NONE, _NONE, not dead[i], refs[i] in frozen, scope)
            if key and not dead[i]:
                if key.place:
                    g.places = _one(key.place)
                g.tags = _one(branch_tag(key))
            groups.append(g)
        # (the parent list's int objects: a block of one record holds the same one)
        self.index = index = BlockIndex.build(
            (i, blocks_of(*f, False)) for i, f in zip(parent, recs.fields(*BLOCK_FIELDS)) if not dead[i])
        del dead
        kinds = index.kinds
        self.typos = TypoIndex(kinds.get("core", ())) if cfg.typo_blocks else TypoIndex()
        # computed over all records by the caller when only some are matched (incremental)
        cap = cfg.max_block
        self.big = big if big is not None else too_common(index, self.typos, cap)
        self.big_typos = {k[1] for k in self.big if k[0] == "del"}

    def _typo_members(self, cores: list[str]):
        """The live records of a block ("del", variant): those of the ``cores`` that have it."""
        index = self.index
        for core in cores:
            yield from block_members(index, ("core", core))

    # --- union-find under constraints -------------------------------------------------------
    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def compatible(self, a: int, b: int) -> bool:
        ga, gb = self.groups[self.find(a)], self.groups[self.find(b)]
        if ga is gb:
            return True
        if ga.frozen or gb.frozen:
            return False
        if ga.uscc and gb.uscc and ga.uscc != gb.uscc:
            return False
        if ga.scope and gb.scope and ga.scope != gb.scope:
            return False
        if ga.tags and gb.tags and ga.tags != gb.tags:
            return False
        return all(places_compatible(p, q) for p in ga.places for q in gb.places)

    def union(self, keep: int, other: int, join: Join) -> bool:
        """Merge ``other``'s cluster into ``keep``'s if the constraints allow; True when merged."""
        a, b = self.find(keep), self.find(other)
        if a == b:
            return True
        if not self.compatible(a, b):
            return False
        ga, gb = self.groups[a], self.groups[b]
        # The record the rule fired for is labelled with it (the other side if it already had a rule).
        joins, recs = self.joins, self.refs
        seed = (recs[other] if joins[recs[other]].rule == "own"
                else recs[keep] if joins[recs[keep]].rule == "own" else None)
        ma, mb = ga.members, gb.members
        if (1 if type(ma) is int else len(ma)) < (1 if type(mb) is int else len(mb)):
            a, b, ga, gb = b, a, gb, ga
        self.parent[b] = a
        if type(ga.members) is int:
            ga.members = [ga.members]
        if type(gb.members) is int:
            ga.members.append(gb.members)
        else:
            ga.members += gb.members
        ga.uscc = ga.uscc or gb.uscc
        ga.scope = ga.scope or gb.scope
        # a new frozenset only when the other side adds to it (``|=`` made two per merge, ~0.4 kB)
        if not gb.places <= ga.places:
            ga.places = ga.places | gb.places if ga.places else gb.places
        if not gb.tags <= ga.tags:
            ga.tags = ga.tags | gb.tags if ga.tags else gb.tags
        ga.live = ga.live or gb.live
        self.groups[b] = None
        if seed:
            self.joins[seed] = join
        return True

    # --- stages -------------------------------------------------------------------------------
    def run(self) -> Result:
        self._by_value("uscc", "same valid credit code")
        self._by_value("link_code", "same link code")
        if self.cfg.name_key_joins:
            self._by_name_key()
        self._by_evidence()
        roots = sorted({self.find(i) for i in range(len(self.recs))})
        number = {root: n for n, root in enumerate(roots)}
        refs = self.refs
        clusters = [sorted(refs[i] for i in _listed(self.groups[root].members)) for root in roots]
        cluster_of = [number[self.find(i)] for i in range(len(self.recs))]
        review = {ref: (reason, [(cluster_of[c], s, sig) for c, s, sig in cands])
                  for ref, (reason, cands) in self.review.items()}
        return Result(clusters, self.joins, review, cluster_of, [refs[root] for root in roots])

    def _by_value(self, rule: str, reason: str) -> None:
        """Join the records with the same value of field ``rule`` (uscc, link_code)."""
        first: dict[str, int] = {}
        join = Join(rule)  # one for every join of the rule (never changed once made)
        for i, v in enumerate(self.recs.column(rule)):
            if not v:
                continue
            if v not in first:
                first[v] = i
            elif not self.union(first[v], i, join):
                self._to_review(i, f"{reason}, but a hard constraint (code, place or branch) forbids the join",
                                [(first[v], 1.0, (rule,))])

    def _by_name_key(self) -> None:
        """A code-less record joins the one customer its name key points to. A key without a
        place is ambiguous when its namesakes name places (or carry codes) that exclude each
        other: it points to several customers, so it neither joins nor attracts by name. So is a
        record placed nowhere when its namesakes' inferred places exclude each other (cities.py)."""
        by_core: dict[str, list[int]] = defaultdict(list)
        keys, dead = self.recs.column("key"), self.recs.column("deleted")
        self._where = (keys, self.recs.column("cities"), dead)  # (read by _far and _key_fits)
        for i, key in enumerate(keys):
            if key and not dead[i]:
                by_core[key.core].append(i)
        ambiguous = set()
        for members in by_core.values():
            if len(members) < 2:
                continue  # a name nobody else has: no namesakes to point to, none to exclude
            places = {keys[j].place for j in members} - {None}
            codes = {self.groups[self.find(j)].uscc for j in members} - {None}
            clash = len(codes) > 1 or any(not places_compatible(p, q) for p in places for q in places)
            if clash:
                ambiguous.update(j for j in members if keys[j].place is None)
            elif self.cfg.infer_cities:  # the same with places inferred from addresses and landlines
                cities = self._where[1]
                ambiguous.update(nowhere_among([location_of(((keys[j], cities[j]),)) for j in members], members))
        for i, key in enumerate(keys):
            if not key or self.groups[self.find(i)].uscc or i in ambiguous:
                continue
            namesakes = by_core.get(key.core, ())
            if not namesakes or namesakes == [i]:
                continue  # (a live record is among its own namesakes; a deleted one is not)
            own = self.find(i)
            roots = {self.find(j) for j in namesakes
                     if j != i and j not in ambiguous and self._key_fits(key, j)}
            roots = sorted(c for c in roots - {own} if self.compatible(i, c) and not self._far(i, c))
            # Several namesake groups that could all be one customer are one customer.
            if roots and all(self.compatible(a, b) and not self._far(a, b) for a in roots for b in roots if a < b):
                for c in roots:
                    self.union(c, i, _NAME)
        self._where = None

    def _far(self, a: int, b: int) -> bool:
        """The known places of two groups (explicit or inferred) exclude each other: a name
        alone never joins them (cities.py)."""
        return self.cfg.infer_cities and clash(*(self._group_location(_listed(self.groups[self.find(x)].members))
                                                 for x in (a, b)))

    def _group_location(self, members: list[int]) -> set[str]:
        """cities.group_location of records by index (in _by_name_key, from its columns)."""
        keys, cities, dead = self._where
        return (location_of((keys[j], cities[j]) for j in members if not dead[j])
                or location_of((keys[j], cities[j]) for j in members))

    def _key_fits(self, key: NameKey, j: int) -> bool:
        other = self._where[0][j]
        return other is not None and places_compatible(key.place, other.place)

    # --- evidence -----------------------------------------------------------------------------
    block_keys = staticmethod(block_keys)

    def _blocks(self):
        return self.index

    def _switchboards(self, index) -> set[str]:
        boards = set()
        # the phone blocks are those of the live records' numbers (not a walk over every block)
        dead = self.recs.column("deleted")
        numbers = dict.fromkeys(p for d, ps in zip(dead, self.recs.column("phones")) if not d for p in ps)
        for value in numbers:
            found = block_members(index, ("phone", value))
            if not found or (len(found) < 2 and self.cfg.switchboard_clusters > 1):
                continue  # one record's own number (a record lists a number once): one customer
            roots = {self.find(i) for i in found}
            codes = {self.groups[c].uscc for c in roots} - {None}
            if len(roots) >= self.cfg.switchboard_clusters or len(codes) >= 2:
                boards.add(value)
        return boards

    def _by_evidence(self) -> None:
        index = self._blocks()
        self.switchboards = self._switchboards(index)
        done = bytearray(len(self.recs))  # roots that looked already (a flag per record, not a set)
        recs, keys_of = self.recs, self.block_keys
        for i in range(len(self.recs)):
            root = self.find(i)
            if done[root] or self.groups[root].uscc:
                continue  # coded customers do not go looking; each open group looks once
            done[root] = 1
            mine = _listed(self.groups[root].members)
            own_recs = [recs[j] for j in mine]  # (made once per look: see columns.Columns)
            cands: dict[int, tuple[float, tuple[str, ...]]] = {}
            blocks = [block_members(index, key) for key in {k for r in own_recs for k in keys_of(r, False)}
                      if key not in self.big and not (key[0] == "phone" and key[1] in self.switchboards)]
            if self.typos:
                own = {k.core for r in own_recs for k in ((r.key,) if r.key else ()) + r.aliases}
                typos = self.typos
                for d in {d for core in own for d in deletions(core)} - self.big_typos:
                    cores = typos.cores_of(d)
                    if not cores or len(cores) == 1 and cores[0] in own:
                        continue  # a variant only the group's own cores have: their blocks are read above
                    blocks.append(self._typo_members(cores))
            for block in blocks:
                for j in block:
                    c = self.find(j)
                    if c in cands or c == root or not self.compatible(root, c):
                        continue
                    cands[c] = self._score(own_recs, _listed(self.groups[c].members))
            ranked = sorted(((s, sig, c) for c, (s, sig) in cands.items() if s >= self.cfg.review),
                            key=lambda t: (-t[0], t[2]))
            if not ranked:
                continue
            best, sig, target = ranked[0]
            runner = ranked[1][0] if len(ranked) > 1 else 0.0
            if best >= self.cfg.accept and best - runner >= self.cfg.margin:
                self.union(target, root, Join("evidence", round(best, 3), sig))
                done[self.find(root)] = 1
            else:
                why = ("several customers fit equally well" if best >= self.cfg.accept
                       else "evidence below the join threshold")
                self._to_review(min(mine), why, [(c, round(s, 3), g) for s, g, c in ranked[:5]])

    def _score(self, mine: list[Rec], theirs: list[int]) -> tuple[float, tuple[str, ...]]:
        """Evidence that the records ``mine`` are the group ``theirs`` (only live records of theirs count)."""
        return score_groups(mine, [r for r in map(self.recs.__getitem__, theirs) if not r.deleted],
                            self.switchboards, self.cfg)

    def _to_review(self, i: int, reason: str, cands) -> None:
        ref = self.refs[i]
        if ref not in self.review:
            self.review[ref] = (reason, list(cands))


def resolve(records: list[Rec], cfg: Matching, frozen: frozenset[str] = frozenset(),
            big: set | None = None) -> Result:
    """Cluster ``records``; ``frozen`` refs (placed by an IT override) are never joined by a
    rule but still count as customers others could be (their names make a key ambiguous);
    ``big``: the too-common blocks, when ``records`` are only part of all records."""
    with paused_gc():
        result = Engine(records, cfg, frozen, big).run()
    return result


@contextmanager
def paused_gc():
    """Pause Python's cyclic garbage collector for a resolution. Staging and matching build
    millions of small objects (record dicts, block keys, groups) that live until the end; every
    few hundred allocations the collector would rescan them, which cost a quarter of the
    resolution's CPU at 30k customers. Reference counting still frees everything acyclic at
    once; the rare cycles are collected when the collector resumes (nested uses keep it paused
    until the outermost ends)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
