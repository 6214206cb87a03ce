"""The open items of a report, kept in a temporary file instead of in memory.

A 100k-customer world has ~150k open items; as Python objects they cost ~0.6 kB each (~85 MB),
the one part of the report that still grew with the data once every file was written piece by
piece. ``ItemStore`` keeps up to 20k items in memory (a 10k-customer world has ~16k: no cost
there); past that it pickles each item's values into a temporary file and keeps two numbers per
item, and reading an item back makes it anew (``make(*values)``). Every output reads the items
in one or two passes, so a big report pays a few microseconds per item and pass. ``Tally`` adds up what
the report shows of all items (counts, money, roll-ups, aging) as they are read, once.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from quality.report.texts import money, seen_local, seen_text

SPILL_AFTER = 20_000  # items kept in memory (~0.6 kB each) before they go to the temporary file

# discrepancies.json's keys in their order; an enriched item carries them unchanged
CONTRACT_KEYS = ("rule", "severity", "customer_id", "customer_name", "owner", "region", "amount_cny", "refs",
                 "first_seen", "status")

_OPEN_ITEM_FIELDS = ("rule", "severity", "customer_id", "customer_name", "owner", "region", "cents",
                     "ref_tuple", "first_utc", "status", "manager", "deal", "stage", "close_date", "documents", "age_days", "change")

_OPEN_ITEM_INDEX = {name: n for n, name in enumerate(_OPEN_ITEM_FIELDS)}


class OpenItem(namedtuple("_OpenItem", _OPEN_ITEM_FIELDS)):
    """An open item of the report, enriched, in few bytes and quick to make (a 100k-customer world
    has ~150k, read back from the ``ItemStore`` once per pass): a named tuple of its fields
    (``ref_tuple``: its refs, anchor first, parsed once - a tuple of text, unlike a list, leaves
    the item untracked by the garbage collector, whose every full pass would walk 19k more
    objects), the derived ones (``amount``, ``amount_cny``, ``first_seen``, ``first_seen_local``,
    ``refs``: a new list) computed when read. Reads as a mapping (``i["rule"]``, ``dict(i)``) and
    by attribute (``i.rule``, what Jinja tries first; the writers read the fields directly)."""

    __slots__ = ()
    KEYS = CONTRACT_KEYS + ("cents", "amount", "first_seen_local", "age_days", "change", "manager", "deal", "stage",
                            "close_date", "documents")

    @property
    def refs(self) -> list[str]:
        """The item's refs, anchor first."""
        return list(self.ref_tuple)

    @property
    def amount(self) -> Decimal:
        """Exact amount in yuan."""
        return Decimal(self.cents) / 100

    @property
    def amount_cny(self) -> str:
        """The amount as discrepancies.json writes it."""
        return money(self.cents)

    @property
    def first_seen(self) -> str:
        """First seen, as discrepancies.json writes it."""
        return seen_text(self.first_utc)

    @property
    def first_seen_local(self) -> datetime:
        """First seen, local wall-clock time of the reporting zone."""
        return seen_local(self.first_utc)

    def as_contract(self) -> dict:
        """``{k: self[k] for k in CONTRACT_KEYS}`` (discrepancies.json's object), made without a
        look-up per key: the report makes one per open item."""
        return {"rule": self.rule, "severity": self.severity, "customer_id": self.customer_id,
                "customer_name": self.customer_name, "owner": self.owner, "region": self.region,
                "amount_cny": money(self.cents), "refs": list(self.ref_tuple), "first_seen": seen_text(self.first_utc),
                "status": self.status}

    def __getitem__(self, key):
        if type(key) is not str:  # an index or a slice, as of any tuple
            return tuple.__getitem__(self, key)
        n = _OPEN_ITEM_INDEX.get(key)  # a field: no attribute look-up
        if n is not None:
            return tuple.__getitem__(self, n)
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default=None):
        """Like ``dict.get``."""
        return getattr(self, key, default)

    def keys(self) -> tuple[str, ...]:
        """The keys an enriched item has always had (``dict(item)`` works)."""
        return self.KEYS

    def __repr__(self) -> str:
        return f"OpenItem({self.rule} {self.ref_tuple})"


class ItemStore(Sequence):
    """A read-only sequence of items: in memory while few (the usual report, and no cost per
    read), in a temporary file once there are more than ``spill_after``. ``make(*values)`` makes
    an item and gives back a tuple of those values (a named tuple)."""

    def __init__(self, make: Callable, spill_after: int | None = None):
        self._make = make
        self.by_rule: dict[str, array] | None = None  # positions per rule, when the owner keeps them (data.py)
        self._spill_after = SPILL_AFTER if spill_after is None else spill_after
        self._items: list | None = []  # while in memory
        self._file = None
        self._offsets = array("q")
        self._sizes = array("l")
        self._position = 0

    def append(self, values: tuple) -> None:
        """Add an item by its values (what ``make`` takes, in its order)."""
        if self._items is None:
            self._write(values)
            return
        self._items.append(self._make(*values))
        if len(self._items) > self._spill_after:
            self._file = tempfile.TemporaryFile(prefix="report-items-")
            items, self._items = self._items, None
            for item in items:
                self._write(tuple(item))

    def add(self, item: tuple) -> None:
        """Add an item already made (what ``make`` gives back: a tuple of its values)."""
        if self._items is not None and len(self._items) < self._spill_after:
            self._items.append(item)
        else:
            self.append(tuple(item))

    def _write(self, values: tuple) -> None:
        data = pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(data)
        self._offsets.append(self._position)
        self._sizes.append(len(data))
        self._position += len(data)

    @property
    def spilled(self) -> bool:
        """Whether the items are in the temporary file."""
        return self._items is None

    def order(self, keys: list) -> list[int]:
        """Put the items in the order of ``keys`` (one per item, as appended; emptied here). Gives
        back where each item came from (``permutation[new position] = old position``)."""
        permutation = sorted(range(len(keys)), key=keys.__getitem__)
        keys.clear()
        if self._items is not None:
            self._items = [self._items[k] for k in permutation]
            return permutation
        self._file.flush()
        self._offsets = array("q", (self._offsets[k] for k in permutation))
        self._sizes = array("l", (self._sizes[k] for k in permutation))
        return permutation

    def __len__(self) -> int:
        return len(self._offsets) if self._items is None else len(self._items)

    def _read(self, k: int):
        return self._make(*pickle.loads(os.pread(self._file.fileno(), self._sizes[k], self._offsets[k])))

    def __getitem__(self, k):
        if self._items is not None:
            return self._items[k]
        if isinstance(k, slice):
            return [self._read(n) for n in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self._read(k)

    def __iter__(self) -> Iterator:
        if self._items is not None:
            yield from self._items
            return
        self._file.flush()
        for k in range(len(self)):
            yield self._read(k)

    def sorted_by(self, key: Callable) -> Iterator:
        """The items in the order of ``key``, read one at a time (only the keys are in memory)."""
        if self._items is not None:
            yield from sorted(self._items, key=key)
            return
        keys = [key(i) for i in self]
        permutation = sorted(range(len(keys)), key=keys.__getitem__)
        del keys
        for k in permutation:
            yield self._read(k)


def _group() -> dict:
    return {"count": 0, "red": 0, "orange": 0, "yellow": 0, "cents": 0}


class Tally:
    """What the report adds up over the open items (counts, money, roll-ups, aging), an item at a
    time as the items are read: they are not all in memory (``ItemStore``)."""

    DIMS = ("rule", "region", "manager", "owner")

    def __init__(self, edges: list[int], severities: tuple[str, ...]) -> None:
        self.groups = {dim: defaultdict(_group) for dim in self.DIMS}
        self.edges = edges  # aging buckets end at these ages (days); the last is open
        self.aging = [{"key": k, "count": 0, "cents": 0, **{s: 0 for s in severities}}
                      for k in ("d0_7", "d8_30", "d31_90", "d90_plus")]
        self.open = self.red = self.total = 0
        self.changes = {"new": [0, 0], "persisting": [0, 0]}  # count, cents
        self._buckets: dict[int, dict] = {}  # age in days -> its aging bucket

    def add(self, i) -> None:
        """Count one open item (an ``OpenItem``)."""
        severity, cents, groups = i.severity, i.cents, self.groups
        for dim, key in (("rule", i.rule), ("region", i.region), ("manager", i.manager), ("owner", i.owner)):
            g = groups[dim][key or ""]
            g["count"] += 1
            g[severity] = g.get(severity, 0) + 1
            g["cents"] += cents
        bucket = self._buckets.get(i.age_days)
        if bucket is None:
            bucket = self._buckets[i.age_days] = self.aging[next(
                (b for b, edge in enumerate(self.edges) if i.age_days <= edge), len(self.edges))]
        bucket["count"] += 1
        bucket["cents"] += cents
        bucket[severity] = bucket.get(severity, 0) + 1
        self.open += 1
        self.red += severity == "red"
        self.total += cents
        change = self.changes[i.change]
        change[0] += 1
        change[1] += cents

    def rollup(self, dim: str) -> list[dict]:
        """One row per rule / region / manager / owner: rules in their order, the rest by money."""
        rows = [{"key": k, **v} for k, v in self.groups[dim].items()]
        if dim == "rule":
            return sorted(rows, key=lambda r: int(r["key"][1:]) if r["key"][1:].isdigit() else 99)
        return sorted(rows, key=lambda r: (-r["cents"], -r["count"], r["key"]))
