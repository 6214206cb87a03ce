"""Blocks: which records the engine ever compares. Two records are compared only inside a block
they share: a name core, a one-character-deleted variant of one (typos), a phone number, an
address, a credit code. Capped blocks that too many records share say nothing (a switchboard).

Split from :mod:`mappings.identity.engine`, with the incremental closure (resolve.py) as the
other user of :func:`block_keys` and :func:`big_blocks`.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mappings.identity.engine import Rec

# Evidence blocks that say nothing once too many records share them (like a switchboard).
CAPPED = ("del", "phone", "addr")


def big_blocks(keyed, cap: int) -> set[tuple[str, str]]:
    """The capped blocks with more than ``cap`` live records: too common to be evidence.
    ``keyed``: (record, its block keys) pairs."""
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    for r, keys in keyed:
        if not r.deleted:
            for key in keys:
                if key[0] in CAPPED:
                    sizes[key] += 1
    return {k for k, n in sizes.items() if n > cap}


def deletions(text: str, minimum: int = 4) -> list[str]:
    """The one-character-deleted variants of ``text`` (two texts one edit apart share one)."""
    if len(text) < minimum:
        return []
    return [text[:i] + text[i + 1:] for i in range(len(text))]


@lru_cache(maxsize=65536)
def _typo_keys(core: str) -> tuple[tuple[str, str], ...]:
    """The typo blocks of a name core, made once per core: a customer's records share their core."""
    return tuple(("del", d) for d in deletions(core))


def release_typo_caches() -> None:
    """Empty the per-core typo-block cache once the block index is written: at 100k customers
    it holds tens of thousands of cores' variants nothing reads any more."""
    _typo_keys.cache_clear()


def block_keys(r: Rec, typos: bool = True) -> list[tuple[str, str]]:
    """The blocks a record sits in; two records are only ever compared inside one."""
    return blocks_of(r.key, r.aliases, r.phones, r.address, r.uscc, r.code_raw, typos)


def blocks_of(key, aliases, phones, address, uscc, code_raw, typos: bool = True) -> list[tuple[str, str]]:
    """:func:`block_keys` of a record's fields (read from columns.Columns without a Rec)."""
    keys = []
    for k in ((key,) if key else ()) + aliases:
        keys.append(("core", k.core))
        if typos:
            keys += _typo_keys(k.core)
    keys += [("phone", p) for p in phones]
    if address:
        keys.append(("addr", address))
    # Codes block exactly; a mistyped code one character off is scored (near_code) among
    # candidates the other blocks bring, not blocked on (18 variants per code cost more).
    keys += [("code", c) for c in (uscc, code_raw) if c]
    return keys


class BlockIndex:
    """An engine's blocks: block -> its live records, one dict per kind of block keyed by the
    block's value (the name core, number, address, code itself: a ``(kind, value)`` tuple per
    block was ~56 bytes each, 550k of them at 100k customers). A block of one record (most of
    them) is that record's index; a bigger one is ``~n`` (negative) for block ``n``, whose
    records sit in one flat integer array (``_members[_start[n]:_start[n + 1]]``, in record
    order): a list per block was ~90 bytes and its growth slack, 64k of them at 10k customers.
    Made by :meth:`build`; ``get``/``items`` speak in ``(kind, value)`` keys like a dict would."""

    __slots__ = ("kinds", "_start", "_members")

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, int]] = {}
        self._start, self._members = array("i", [0]), array("i")

    @classmethod
    def build(cls, keyed) -> BlockIndex:
        """The index of ``keyed``: (record index, its block keys) pairs in record order."""
        index = cls()
        kinds = index.kinds
        first, b_of, r_of = array("i"), array("i"), array("i")  # a block's first record; later listings
        for i, keys in keyed:
            for kind, value in keys:
                blocks = kinds.get(kind)
                if blocks is None:
                    blocks = kinds[kind] = {}
                found = blocks.get(value)
                if found is None:
                    blocks[value] = i
                    continue
                if found >= 0:  # a second record: the block gets a number
                    first.append(found)
                    blocks[value] = found = ~(len(first) - 1)
                b_of.append(~found)
                r_of.append(i)
        start = array("i", [0]) * (len(first) + 1)
        for b in b_of:
            start[b + 1] += 1
        total = 0
        for b in range(len(first)):
            total += start[b + 1] + 1
            start[b + 1] = total
        members = array("i", [0]) * total
        fill = array("i", start[:-1])
        for b, i in enumerate(first):
            members[fill[b]] = i
            fill[b] += 1
        for b, i in zip(b_of, r_of):
            members[fill[b]] = i
            fill[b] += 1
        index._start, index._members = start, members
        return index

    def get(self, key, default=None):
        found = self.kinds.get(key[0])
        return default if found is None else found.get(key[1], default)

    def members(self, found: int) -> tuple[int] | array:
        """The records of a block as :meth:`get` finds it."""
        if found >= 0:
            return (found,)
        return self._members[self._start[~found]:self._start[~found + 1]]

    def size(self, found: int) -> int:
        """How many records a block as :meth:`get` finds it holds."""
        return 1 if found >= 0 else self._start[~found + 1] - self._start[~found]

    def items(self):
        for kind, blocks in self.kinds.items():
            for value, found in blocks.items():
                yield (kind, value), found

    def __len__(self) -> int:
        return sum(len(blocks) for blocks in self.kinds.values())


def block_members(index: BlockIndex, key) -> tuple[int, ...] | array:
    """The records of block ``key`` in an engine's :class:`BlockIndex` (``()`` for none)."""
    found = index.get(key)
    if found is None:
        return ()
    return index.members(found)


def too_common(index, typos, cap: int) -> set[tuple[str, str]]:
    """:func:`big_blocks` of an engine's block ``index`` and its typo index
    (:class:`mappings.identity.typos.TypoIndex`). A variant of one core (nearly all) is as big
    as that core's block: only the few cores above the cap are looked at for those."""
    big = {k for k, found in index.items() if k[0] in CAPPED and found < 0 and index.size(found) > cap}
    big_cores = {k[1] for k, found in index.items() if k[0] == "core" and found < 0 and index.size(found) > cap}
    for d, cores in typos.variants():
        if len(cores) == 1:
            if cores[0] in big_cores:
                big.add(("del", d))
        elif sum(len(block_members(index, ("core", c))) for c in cores) > cap:
            big.add(("del", d))
    return big
