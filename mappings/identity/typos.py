"""The engine's typo blocks: one-character-deleted variants of the live name cores, in arrays.

Two cores one character apart share a variant (``恒通建材`` and ``恒通达材`` share ``恒通材``), so
the block ("del", variant) of :func:`mappings.identity.blocks.block_keys` is the live records of
every core that has the variant. The engine needs, per variant, the cores that have it. Kept as a
dict of variant texts it was 13.4 MB at 30k customers (102k variants, each a string of its own,
and a per-core cache of variants sharing them); here it is 1.4 MB: a
variant is only its hash, in a chained hash table of integer arrays (~16 bytes per listing, and
4 per bucket); the texts are made again from the core when needed (slicing a short core is
cheap). A hash says which cores *may* have a variant; each is checked against the variant's
text, so the answers are exactly those of the dict (a collision costs a check, never a block).

As in the dict, a core is listed once per time it yields a variant (``AAB`` yields ``AB``
twice): a block counts a record as often as its core lists the variant.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

from mappings.identity.blocks import deletions


class TypoIndex:
    """Variant -> the live cores that have it (see the module docstring). ``cores``: the distinct
    live name cores, in the engine's index order (shorter than 4 characters: no variants)."""

    __slots__ = ("cores", "_head", "_next", "_owner", "_hash", "_mask")

    def __init__(self, cores: Iterable[str] = ()) -> None:
        self.cores = [c for c in cores if len(c) >= 4]
        listings = sum(len(c) for c in self.cores)
        size = 1 << max(4, (2 * listings).bit_length())
        self._mask = size - 1
        self._head = array("i", [-1]) * size
        self._next, self._owner, self._hash = array("i"), array("i"), array("q")
        head, nxt, owner, hashes, mask = self._head, self._next, self._owner, self._hash, self._mask
        k = 0
        for n, core in enumerate(self.cores):
            for d in deletions(core):
                h = hash(d)
                b = h & mask
                nxt.append(head[b])
                head[b] = k
                owner.append(n)
                hashes.append(h)
                k += 1

    def __bool__(self) -> bool:
        return bool(self.cores)

    def __len__(self) -> int:
        return len(self._owner)

    def cores_of(self, variant: str) -> list[str]:
        """The cores that have ``variant`` (one entry per time a core yields it); [] for none."""
        h = hash(variant)
        k = self._head[h & self._mask]
        if k < 0:
            return []
        found = []
        nxt, owner, hashes, cores = self._next, self._owner, self._hash, self.cores
        while k >= 0:
            if hashes[k] == h:
                core = cores[owner[k]]
                if len(core) == len(variant) + 1 and _yields(core, variant, k, self):
                    found.append(core)
            k = nxt[k]
        found.reverse()  # (the chain holds the newest listing first: back to index order)
        return found

    def variants(self) -> Iterator[tuple[str, list[str]]]:
        """Each distinct variant with :meth:`cores_of` it, once (for the too-common blocks)."""
        seen_multi: set[str] = set()
        head, nxt, owner, hashes, cores, mask = self._head, self._next, self._owner, self._hash, self.cores, self._mask
        for core in cores:
            ds = deletions(core)
            repeats = len(set(ds)) < len(ds)  # (a core with a doubled character yields a variant twice)
            for d in ds:
                h = hash(d)
                k = head[h & mask]
                several = repeats
                while k >= 0 and not several:  # another core's listing with the same hash: maybe shared
                    several = hashes[k] == h and cores[owner[k]] is not core
                    k = nxt[k]
                if not several:
                    yield d, [core]
                elif d not in seen_multi:
                    seen_multi.add(d)
                    yield d, self.cores_of(d)


def _yields(core: str, variant: str, k: int, index: TypoIndex) -> bool:
    """Whether listing ``k`` of ``core`` is ``variant`` itself (not a hash collision): the
    listings of one core are consecutive and in :func:`deletions` order, so listing ``k`` is
    the deletion at position ``k - first listing of core``."""
    first = k
    owner = index._owner
    n = owner[k]
    while first > 0 and owner[first - 1] == n:
        first -= 1
    i = k - first
    return core[:i] + core[i + 1:] == variant
