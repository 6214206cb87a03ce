"""Cluster customer records of all systems into unified customers.

Rules (business-rules.md, "Matching rules"):
1. records carrying the same valid credit code are one customer; different valid codes never are;
2. a finance rating and the U8 customer its ``customer_code`` names belong together when at
   most one of them carries a valid code (the rating follows the U8 customer, or the code-less
   U8 customer follows the coded rating);
3. a record without a valid code joins the customer its name key points to, only when it points
   to exactly one; when it points to several it stays alone and goes to the review queue;
4. code-less records whose key points to no coded customer group with each other by key.
Deleted CRM records stay in the crosswalk (following their company) but never attract others.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from mappings.normalize import NameKey
from mappings.regions import places_compatible


@dataclass
class Record:
    ref: str
    system: str
    name: str | None
    key: NameKey | None
    uscc: str | None
    u8_code: str | None
    owner: str | None
    deleted: bool = False


@dataclass
class Cluster:
    records: list[Record] = field(default_factory=list)
    uscc: str | None = None
    keys: set[NameKey] = field(default_factory=set)
    review: bool = False

    @property
    def customer_id(self) -> str:
        seed = f"uscc:{self.uscc}" if self.uscc else min(r.ref for r in self.records)
        return "C" + hashlib.sha1(seed.encode()).hexdigest()[:12].upper()


@dataclass
class MatchResult:
    clusters: list[Cluster]
    methods: dict[str, str]  # ref -> how it joined
    review: dict[str, tuple[str, list[str]]]  # ref -> (reason, candidate customer ids)


class _KeyIndex:
    """Clusters by name core, answering which clusters a key is compatible with."""

    def __init__(self) -> None:
        self._by_core: dict[str, list[tuple[str | None, Cluster]]] = defaultdict(list)

    def add(self, key: NameKey, cluster: Cluster) -> None:
        entries = self._by_core[key.core]
        if not any(c is cluster and p == key.place for p, c in entries):
            entries.append((key.place, cluster))

    def candidates(self, key: NameKey) -> list[Cluster]:
        """Clusters with this core none of whose explicit places contradicts the key's."""
        places: dict[int, tuple[Cluster, list[str | None]]] = {}
        for place, cluster in self._by_core.get(key.core, ()):
            places.setdefault(id(cluster), (cluster, []))[1].append(place)
        return [c for c, ps in places.values() if all(places_compatible(p, key.place) for p in ps)]


def match_records(records: list[Record]) -> MatchResult:
    # Live records first: a deleted one may follow its company but never shapes the matching.
    records = sorted(records, key=lambda r: (r.deleted, r.ref))
    methods: dict[str, str] = {}
    review: dict[str, tuple[str, list[str]]] = {}
    clusters: list[Cluster] = []
    by_uscc: dict[str, Cluster] = {}
    cluster_of: dict[str, Cluster] = {}

    def join(cluster: Cluster, record: Record, method: str) -> None:
        cluster.records.append(record)
        cluster_of[record.ref] = cluster
        methods[record.ref] = method

    # 1. valid credit codes
    for r in records:
        if r.uscc:
            cluster = by_uscc.get(r.uscc)
            if cluster is None:
                cluster = by_uscc[r.uscc] = Cluster(uscc=r.uscc)
                clusters.append(cluster)
            join(cluster, r, "uscc")
            if r.key and not r.deleted:
                cluster.keys.add(r.key)
    coded = _KeyIndex()
    for cluster in clusters:
        for key in cluster.keys:
            coded.add(key, cluster)

    u8_cluster = {r.u8_code: cluster_of[r.ref] for r in records if r.system == "u8" and r.ref in cluster_of}

    # A coded finance rating names its U8 customer: a direct link, stronger than a name.
    rated = {r.u8_code: cluster_of[r.ref] for r in records if r.system == "finance" and r.uscc and r.u8_code}

    # 3. code-less CRM/U8 records by name key against coded customers
    pending: list[Record] = []
    for r in records:
        if r.uscc or r.system == "finance":
            continue
        if r.system == "u8" and r.u8_code in rated:
            join(rated[r.u8_code], r, "finance_link")
            u8_cluster[r.u8_code] = rated[r.u8_code]
            continue
        candidates = coded.candidates(r.key) if r.key else []
        if len(candidates) == 1:
            join(candidates[0], r, "name")
            if not r.deleted:
                # Its place now belongs to the customer: a later name with another city
                # no longer fits (different explicit cities are different companies).
                coded.add(r.key, candidates[0])
            if r.system == "u8":
                u8_cluster[r.u8_code] = candidates[0]
        elif len(candidates) > 1:
            own = Cluster(review=True)
            clusters.append(own)
            join(own, r, "own")
            review[r.ref] = ("name key points to several customers", sorted(c.customer_id for c in candidates))
            if r.system == "u8":
                u8_cluster[r.u8_code] = own
        else:
            pending.append(r)

    # 4. code-less records among themselves
    loose = _KeyIndex()
    for r in pending:
        candidates = loose.candidates(r.key) if r.key else []
        if len(candidates) == 1:
            join(candidates[0], r, "name")
            cluster = candidates[0]
        else:
            cluster = Cluster(review=len(candidates) > 1)
            clusters.append(cluster)
            join(cluster, r, "own")
            if candidates:
                review[r.ref] = ("name key points to several customers",
                                 sorted(c.customer_id for c in candidates))
        if r.key and not r.deleted:
            loose.add(r.key, cluster)
        if r.system == "u8":
            u8_cluster[r.u8_code] = cluster

    # 2. finance ratings without a valid code follow their U8 customer, else match by name
    #    (coded customers first, then those formed from code-less records)
    for r in records:
        if r.system != "finance" or r.uscc:
            continue
        target = u8_cluster.get(r.u8_code)
        if target is not None:
            join(target, r, "u8_code")
            continue
        candidates = (coded.candidates(r.key) or loose.candidates(r.key)) if r.key else []
        if len(candidates) == 1:
            join(candidates[0], r, "name")
        else:
            own = Cluster(review=len(candidates) > 1)
            clusters.append(own)
            join(own, r, "own")
            if candidates:
                review[r.ref] = ("name key points to several customers", sorted(c.customer_id for c in candidates))
    return MatchResult([c for c in clusters if c.records], methods, review)
