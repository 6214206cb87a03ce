"""Blocks: which records the engine ever compares. Two records are compared only inside a block
they share: a name core, a one-character-deleted variant of one (typos), a phone number, an
address, a credit code. Capped blocks that too many records share say nothing (a switchboard).

Split from :mod:`mappings.identity.engine`, with the incremental closure (resolve.py) as the
other user of :func:`block_keys` and :func:`big_blocks`.
"""

from __future__ import annotations

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


@lru_cache(maxsize=65536)
def typo_variants(core: str) -> tuple[str, ...]:
    """:func:`deletions` of a name core, made once per core."""
    return tuple(deletions(core))


def release_typo_caches() -> None:
    """Empty the per-core typo caches once a resolution is done: at 100k customers they hold
    tens of thousands of cores' variants nothing reads any more."""
    _typo_keys.cache_clear()
    typo_variants.cache_clear()


def block_keys(r: Rec, typos: bool = True) -> list[tuple[str, str]]:
    """The blocks a record sits in; two records are only ever compared inside one."""
    keys = []
    for k in ((r.key,) if r.key else ()) + r.aliases:
        keys.append(("core", k.core))
        if typos:
            keys += _typo_keys(k.core)
    keys += [("phone", p) for p in r.phones]
    if r.address:
        keys.append(("addr", r.address))
    # Codes block exactly; a mistyped code one character off is scored (near_code) among
    # candidates the other blocks bring, not blocked on (18 variants per code cost more).
    keys += [("code", c) for c in (r.uscc, r.code_raw) if c]
    return keys


def typo_index(index) -> dict[str, str | list[str]]:
    """One-deletion variant -> the live name cores that have it (a core listed once per time
    it yields the variant; the core itself, not a list, when it is the only one - nearly every
    variant, and a list each would cost ~60 bytes at 640k variants). The block ("del", variant)
    of :func:`block_keys` is then the live records of those cores (``index[("core", core)]``),
    each as often as it was listed there: the same members as a block per variant and record,
    built per distinct core."""
    typos: dict[str, str | list[str]] = {}
    get = typos.get
    for kind, core in index:
        if kind == "core" and len(core) >= 4:  # (shorter cores have no variants)
            for d in typo_variants(core):
                cores = get(d)
                if cores is None:
                    typos[d] = core
                elif type(cores) is str:
                    typos[d] = [cores, core]
                else:
                    cores.append(core)
    return typos


def typo_cores(typos: dict[str, str | list[str]], variant: str) -> list[str] | tuple[str, ...]:
    """The cores :func:`typo_index` lists for ``variant`` (none, one or several)."""
    cores = typos.get(variant)
    if cores is None:
        return ()
    return (cores,) if type(cores) is str else cores


def too_common(index, typos: dict[str, str | list[str]], cap: int) -> set[tuple[str, str]]:
    """:func:`big_blocks` of an engine's block ``index`` and its :func:`typo_index`. A variant
    of one core (nearly all) is as big as that core's block: only the few cores above the cap
    are looked at for those."""
    big = {k for k, members in index.items() if k[0] in CAPPED and len(members) > cap}
    big_cores = {k[1] for k, members in index.items() if k[0] == "core" and len(members) > cap}
    for d, cores in typos.items():
        if type(cores) is str:
            if cores in big_cores:
                big.add(("del", d))
        elif sum(len(index[("core", c)]) for c in cores) > cap:
            big.add(("del", d))
    return big
