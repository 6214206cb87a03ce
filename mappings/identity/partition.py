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

Blocks are hashed into integer arrays (numpy) rather than kept as a dict of keys: a dict of the
~3M blocks of 100k customers (typo variants) would cost more than the engine it serves. A hash
collision only connects more records (harmless); a block is dropped as too common only when its
hash is that block's alone (checked on the exact keys of the few candidate hashes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mappings.identity.blocks import CAPPED, block_keys
from mappings.identity.config import Matching
from mappings.identity.engine import Rec, Result, resolve

SKIPPABLE = ("del", "addr")  # too-common blocks that connect nothing (phone: see the docstring)


def keys_of(r: Rec, typos: bool) -> list[tuple[str, str]]:
    """Every block the engine can relate ``r`` through: its blocks and its link code."""
    keys = block_keys(r, typos)
    if r.link_code:
        keys.append(("link", r.link_code))
    return keys


def too_common(recs: Iterable[Rec], cap: int, typos: bool) -> set[tuple[str, str]]:
    """:func:`blocks.big_blocks` of ``recs`` (their live records' capped blocks above ``cap``),
    counted on hashes first and exactly only for the candidates."""
    hashes = []
    for r in recs:
        if not r.deleted:
            hashes += [hash(k) for k in block_keys(r, typos) if k[0] in CAPPED]
    if not hashes:
        return set()
    values, counts = np.unique(np.array(hashes, dtype=np.int64), return_counts=True)
    del hashes
    suspects = set(values[counts > cap].tolist())
    if not suspects:
        return set()
    exact: Counter = Counter()
    for r in recs:
        if not r.deleted:
            exact.update(k for k in block_keys(r, typos) if k[0] in CAPPED and hash(k) in suspects)
    return {k for k, n in exact.items() if n > cap}


def components(recs: list[Rec], big: set[tuple[str, str]], typos: bool) -> np.ndarray:
    """Component label of each record of ``recs``: records sharing a block that is not too common
    (directly or through others) have the same label."""
    n = len(recs)
    skip = {hash(k) for k in big if k[0] in SKIPPABLE}
    hashes: list[int] = []
    owners: list[int] = []
    for i, r in enumerate(recs):
        mine = {hash(k) for k in keys_of(r, typos)}
        hashes += mine
        owners += [i] * len(mine)
    h = np.array(hashes, dtype=np.int64)
    o = np.array(owners, dtype=np.int64)
    del hashes, owners
    if skip:
        # drop a too-common block only when no other block shares its hash (then keep it: more
        # records in one component is always safe)
        exact = {}
        for r in recs:
            for k in keys_of(r, typos):
                hk = hash(k)
                if hk in skip:
                    exact.setdefault(hk, set()).add(k)
        sole = np.array([hk for hk, ks in exact.items() if len(ks) == 1], dtype=np.int64)
        keep = ~np.isin(h, sole)
        h, o = h[keep], o[keep]
    order = np.argsort(h, kind="stable")
    h, o = h[order], o[order]
    same = h[1:] == h[:-1]
    a, b = o[:-1][same], o[1:][same]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def batches(labels: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Record indices grouped by component, components packed into batches of about ``size``
    records (a component larger than ``size`` is one batch of its own)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    start = 0
    for cut in list(bounds) + [len(order)]:
        if cut - start >= size or cut == len(order):
            # close the batch at the last component boundary before it grows past ``size``
            yield order[start:cut]
            start = cut
    # (every index is yielded once: batches end on component boundaries)


def resolve_partitioned(recs: list[Rec], cfg: Matching, frozen: frozenset[str] = frozenset(),
                        size: int = 20000, load: Callable[[list[Rec]], list[Rec]] | None = None) -> Result:
    """:func:`engine.resolve` of ``recs``, run per batch of about ``size`` records of whole
    components; the same :class:`Result` (clusters in the same order, the same joins and review).
    ``load``: turns a batch of ``recs`` into the records the engine matches (when ``recs`` are
    lighter stand-ins), else they are matched as they are."""
    big = too_common(recs, cfg.max_block, cfg.typo_blocks)
    labels = components(recs, big, cfg.typo_blocks)
    parts = []  # (sort key of the root record, cluster refs, batch number, cluster number in batch)
    joins: dict = {}
    reviews = []
    for number, idx in enumerate(batches(labels, size)):
        batch = [recs[i] for i in idx.tolist()]
        if load is not None:
            batch = load(batch)
        result = resolve(batch, cfg, frozen, big)
        deleted = {r.ref: r.deleted for r in batch}
        del batch
        for c, (root, refs) in enumerate(zip(result.roots, result.clusters, strict=True)):
            parts.append(((deleted[root], root), refs, number, c))
        joins.update(result.joins)
        reviews.append((number, result.review))
    parts.sort(key=lambda p: p[0])
    where = {(p[2], p[3]): n for n, p in enumerate(parts)}
    review = {ref: (reason, [(where[(number, c)], s, sig) for c, s, sig in cands])
              for number, found in reviews for ref, (reason, cands) in found.items()}
    clusters = [p[1] for p in parts]
    roots = [p[0][1] for p in parts]
    del parts, where
    cluster_no = {ref: n for n, refs in enumerate(clusters) for ref in refs}
    ordered = sorted(recs, key=lambda r: (r.deleted, r.ref))
    return Result(clusters, joins, review, [cluster_no[r.ref] for r in ordered], roots)
