"""Resolution by partition: the engine run over batches of connected components of records, with
exactly the result of one run over every record, and memory that follows the batch, not the data.

The engine (engine.py) only ever relates two records inside a block they share: the same credit
code (valid or mistyped), link code or name core, a typo variant of a core, a phone number, an
address. Records that share no block, directly or through others, never meet: no join, no
candidate, no constraint check. So the connected components of the records over their blocks can
be matched separately. Two things are global and are worked out over all records first:

- the too-common blocks (``blocks.big_blocks``: typo, phone and address blocks of more than
  ``max_block`` live records say nothing); they are passed to every batch, and the typo and
  address ones connect nothing (the engine never looks inside them);
- switchboards (a number shared by several customers): a phone block is always followed, even a
  too-common one, so each number's records are in one component and the engine sees all of them.

Within a batch the engine orders records as it does over all records (live first, then by ref),
a sub-sequence of the global order, so every tie is broken the same way; the clusters of all
batches are put back into the global order (by their root record), so ids issued in cluster
order are the same too. ``tests/mappings/identity/test_partition.py`` checks partitioned ==
unpartitioned on generated worlds with batches small enough to force many partitions.

Blocks are hashed into integer arrays rather than kept as a dict of keys (a dict of the ~600k
blocks of 196k contact records would cost more than the batches save; numpy and scipy would add
~55 MB of imports to every resolution). A hash collision only connects more records (harmless);
a block is dropped as too common only when its hash is that block's alone (checked on the exact
keys of the few candidate hashes).

Customers are not matched this way: their typo blocks (one-character-deleted variants of name
cores shared by up to ``max_block`` records) chain three quarters of all records into one
component (62k of 83k at 30k customers), which would be matched whole anyway.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import chain

from mappings.identity.blocks import CAPPED, block_keys
from mappings.identity.config import Matching
from mappings.identity.engine import Rec, Result, resolve

_BUCKETS = 64  # see components
SKIPPABLE = ("del", "addr")  # too-common blocks that connect nothing (phone: see the docstring)


def keys_of(r: Rec, typos: bool) -> list[tuple[str, str]]:
    """Every block the engine can relate ``r`` through: its blocks and its link code."""
    keys = block_keys(r, typos)
    if r.link_code:
        keys.append(("link", r.link_code))
    return keys


def _each(items: Sequence, make: Callable | None) -> Iterator[Rec]:
    return (make(x) for x in items) if make is not None else iter(items)


def _hashed(recs: Sequence, typos: bool, make: Callable | None) -> tuple[array, array, Counter]:
    """One pass over the records: the hash of each of their blocks (once per record) with its
    record's index, and how often each capped block hash is listed by a live record."""
    hashes, owners, counts = array("q"), array("q"), Counter()
    for i, r in enumerate(_each(recs, make)):
        keys = keys_of(r, typos)
        mine = {hash(k) for k in keys}
        hashes.extend(mine)
        owners.extend([i] * len(mine))
        if not r.deleted:
            counts.update(hash(k) for k in keys if k[0] in CAPPED)
    return hashes, owners, counts


def too_common(recs: Sequence, cap: int, typos: bool, make: Callable | None = None,
               counts: Counter | None = None) -> set[tuple[str, str]]:
    """:func:`blocks.big_blocks` of ``recs`` (their live records' capped blocks above ``cap``),
    counted on hashes first (``counts``: from :func:`_hashed`) and exactly only for the
    candidates (``make``: see :func:`resolve_partitioned`)."""
    if counts is None:
        counts = _hashed(recs, typos, make)[2]
    suspects = {h for h, n in counts.items() if n > cap}
    if not suspects:
        return set()
    exact: Counter = Counter()
    for r in _each(recs, make):
        if not r.deleted:
            exact.update(k for k in block_keys(r, typos) if k[0] in CAPPED and hash(k) in suspects)
    return {k for k, n in exact.items() if n > cap}


def components(recs: Sequence, big: set[tuple[str, str]], typos: bool, make: Callable | None = None,
               hashed: tuple[array, array] | None = None) -> list[int]:
    """Component label of each record of ``recs``: records sharing a block that is not too common
    (directly or through others) have the same label (union-find over record indices;
    ``hashed``: the blocks from :func:`_hashed`)."""
    skip = _sole_hashes(recs, big, typos, make)
    hashes, owners = hashed or _hashed(recs, typos, make)[:2]
    parent = array("q", range(len(recs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # The entries sorted by hash a bucket (of the hash's low bits) at a time: equal hashes share a
    # bucket, and one sorted list of every entry was ~80 bytes an entry (~50 MB at 100k customers'
    # contacts). A component's label is its smallest record index, whatever the order of unions.
    buckets = [array("i") for _ in range(_BUCKETS)]
    for n, h in enumerate(hashes):
        buckets[h & (_BUCKETS - 1)].append(n)
    while buckets:
        order = sorted(buckets.pop(), key=hashes.__getitem__)
        for x, y in zip(order, order[1:]):  # consecutive entries of one hash: one block
            if hashes[x] == hashes[y] and not (skip and hashes[x] in skip):
                a, b = find(owners[x]), find(owners[y])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return array("i", map(find, range(len(recs))))


def _sole_hashes(recs: Sequence, big: set[tuple[str, str]], typos: bool, make: Callable | None) -> set[int]:
    """Hashes of the too-common blocks that connect nothing (:data:`SKIPPABLE`), each only when
    no other block shares it (then it is followed: more records in one component is safe)."""
    skip = {hash(k) for k in big if k[0] in SKIPPABLE}
    if not skip:
        return skip
    exact: dict[int, set] = {}
    for r in _each(recs, make):
        for k in keys_of(r, typos):
            hk = hash(k)
            if hk in skip:
                exact.setdefault(hk, set()).add(k)
    return {hk for hk, ks in exact.items() if len(ks) == 1}


def batches(labels: Sequence[int], size: int) -> Iterator[list[int]]:
    """Record indices grouped by component, components packed into batches of about ``size``
    records (a component larger than ``size`` is one batch of its own)."""
    order = _by_label(labels)
    batch: list[int] = []
    for n, i in enumerate(order):
        batch.append(i)
        last = n + 1 == len(order) or labels[order[n + 1]] != labels[i]
        if last and len(batch) >= size:  # close the batch on a component boundary
            yield batch
            batch = []
    if batch:
        yield batch


def _by_label(labels: Sequence[int]) -> array:
    """The record indices sorted by label, in index order within a label (as a stable sort
    gives): a counting sort into one ``array('i')`` (labels are small ints: record indices), held while the
    batches are matched where a list of ints was ~40 bytes a record."""
    m = max(labels, default=-1) + 1
    start = array("i", bytes(4 * (m + 1)))
    for label in labels:
        start[label + 1] += 1
    for i in range(m):
        start[i + 1] += start[i]
    order = array("i", bytes(4 * len(labels)))
    for i, label in enumerate(labels):
        order[start[label]] = i
        start[label] += 1
    return order


def resolve_partitioned(recs: Sequence, cfg: Matching, frozen: frozenset[str] = frozenset(),
                        size: int = 20000, make: Callable | None = None, indexes: bool = True) -> Result:
    """:func:`engine.resolve` of ``recs``, run per batch of about ``size`` records of whole
    components; the same :class:`Result` (clusters in the same order, the same joins and review).
    ``make``: turns an item of ``recs`` into its engine record, made each time it is needed
    rather than held for every record (the contacts' are ~0.2 kB each, 196k at 100k customers).
    ``recs`` may read its records on demand instead (``load_batch(indexes)``: the records of one
    batch, read when it is matched; iterating it streams every record for the passes over all).
    ``indexes=False``: the result's ``cluster_of_index`` is left empty (contacts never read it:
    a dict and a list of every record, ~15 MB at 100k customers)."""
    hashes, owners, counts = _hashed(recs, cfg.typo_blocks, make)
    big = too_common(recs, cfg.max_block, cfg.typo_blocks, make, counts)
    labels = components(recs, big, cfg.typo_blocks, make, (hashes, owners))
    del hashes, owners, counts
    # Kept per cluster and record without a tuple each (~0.2 kB a cluster at 196k contacts):
    refs_by_state: tuple[list[str], list[str]] = ([], [])  # live refs, deleted refs
    clusters: list[list[str]] = []
    roots: list[str] = []  # each cluster's root record, in batch order
    dead = bytearray()  # whether that root record is deleted
    starts: list[int] = []  # the first cluster of each batch
    joins: dict = {}
    reviews = []
    load = getattr(recs, "load_batch", None)  # records read a batch at a time (contact_stage.py)
    for idx in batches(labels, size):
        if load is not None:
            batch = load(idx)
        else:
            batch = [recs[i] for i in idx] if make is None else [make(recs[i]) for i in idx]
        if indexes:
            for r in batch:
                refs_by_state[r.deleted].append(r.ref)
        result = resolve(batch, cfg, frozen, big)
        deleted = {r.ref for r in batch if r.deleted}
        del batch
        starts.append(len(clusters))
        clusters += result.clusters
        roots += result.roots
        dead.extend(root in deleted for root in result.roots)
        joins.update(result.joins)
        reviews.append(result.review)
    # clusters in the order of their roots, live first, then by ref (roots are distinct)
    order = sorted(range(len(clusters)), key=roots.__getitem__)
    order.sort(key=dead.__getitem__)
    position = array("i", bytes(4 * len(order)))
    for p, n in enumerate(order):
        position[n] = p
    review = {ref: (reason, [(position[starts[number] + c], s, sig) for c, s, sig in cands])
              for number, found in enumerate(reviews) for ref, (reason, cands) in found.items()}
    clusters = [clusters[n] for n in order]
    roots = [roots[n] for n in order]
    del order, position, dead
    if not indexes:
        return Result(clusters, joins, review, [], roots)
    cluster_no = {ref: n for n, refs in enumerate(clusters) for ref in refs}
    live, gone = refs_by_state
    live.sort()
    gone.sort()
    return Result(clusters, joins, review, [cluster_no[ref] for ref in chain(live, gone)], roots)
