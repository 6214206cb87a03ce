"""What the resolution engine reads and returns: records (:class:`Rec`, :class:`RecList`), how a
record joined its cluster (:class:`Join`), review candidates and the :class:`Result`.

Split off :mod:`mappings.identity.engine` (the matching itself), which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from mappings.normalize import NameKey


@dataclass(slots=True)
class Rec:
    """One source record as the engine sees it (already normalized; slotted: a resolution holds
    one per customer and contact record)."""

    ref: str
    system: str
    key: NameKey | None = None
    aliases: tuple[NameKey, ...] = ()
    uscc: str | None = None  # valid code
    code_raw: str | None = None  # an invalid code as written (normalized), for near-code evidence
    link_code: str | None = None
    phones: tuple[str, ...] = ()
    address: str | None = None
    contacts: tuple[str, ...] = ()
    deleted: bool = False
    # A partition records never cross (a contact's customer id): unlike ``uscc`` it is no reason to
    # join, only a bar to joining records of two different scopes.
    scope: str | None = None
    # Places inferred from the address or the landlines' area codes (cities.py): a name without
    # a city is still somewhere, and two places that exclude each other are not joined on a name.
    cities: tuple[str, ...] = ()


class RecList(list):
    """A list of :class:`Rec` read like :class:`columns.Columns` (:meth:`column`): how the
    engine holds records it was given as objects (contacts, tests, an incremental scope)."""

    __slots__ = ()

    def column(self, name: str) -> list:
        """One field of every record, in list order."""
        return [getattr(r, name) for r in self]

    def fields(self, *names: str):
        """Tuples of these fields of every record, in list order."""
        return map(attrgetter(*names), self)


@dataclass(slots=True)
class Join:
    """How a record came into its cluster."""

    rule: str  # uscc | link_code | name | evidence | own
    score: float = 1.0
    signals: tuple[str, ...] = ()


_OWN = Join("own")  # not joined by any rule (yet): one object for every such record
_NAME = Join("name")


@dataclass
class Candidate:
    root: int  # a record index; resolve with Result.cluster_of
    score: float
    signals: tuple[str, ...]


@dataclass
class Result:
    clusters: list[list[str]]  # refs, each list sorted
    joins: dict[str, Join]
    review: dict[str, tuple[str, list[tuple[int, float, tuple[str, ...]]]]]  # ref -> reason, candidates
    cluster_of_index: list[int]  # record index -> cluster number
    # the ref of each cluster's root record: clusters are in the order of their roots (live
    # first, then by ref), which partition.py restores when it matches batches apart
    roots: list[str] = field(default_factory=list)


BLOCK_FIELDS = ("key", "aliases", "phones", "address", "uscc", "code_raw")  # blocks.blocks_of's
