"""The engine's records as columns: what a full resolution keeps of each staged customer record.

A streamed staging (records.stage_streaming) used to keep one slotted :class:`~engine.Rec` per
record (~0.14 kB with its list slot) and, for the staging, a dict pooling every value of every
record (131k entries at 10k customers, 20 MB at 30k). :class:`Columns` keeps instead one flat
``array('i')`` of value ids, :data:`WIDTH` per record (4 bytes each), the refs in one list, and
one value table (``values``): an id is that value's place in it. Only values records of one
company repeat often are looked up in a dict and stored once (name key, credit code, address,
link code, system, inferred cities, and the numbers and names inside the phone and contact
lists); a record's own lists (phones, contacts, aliases) and a mistyped code are appended as they
are, since a dict entry for each (~40-50 bytes) cost more than the few repeats it saved.

The engine reads a column at a time where it walks every record (:meth:`Columns.column`) and
makes a record's :class:`~engine.Rec` only when it compares records (``cols[i]``): the same
values, the same objects for the pooled ones, so the results are those of the records kept.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from mappings.identity.engine import Rec

# The value ids of a record, in Rec's positional order after ``ref``.
FIELDS = ("system", "key", "aliases", "uscc", "code_raw", "link_code", "phones", "address", "contacts",
          "deleted", "scope", "cities")
WIDTH = len(FIELDS)
_AT = {f: n for n, f in enumerate(FIELDS)}
# values every table starts with: ids 0-3 (no value, no items, and the two flags)
_FIXED = (None, (), False, True)
_POOLED = frozenset(("system", "key", "uscc", "link_code", "address", "cities"))


class Columns:
    """Engine records as columns (see the module docstring). Made by :meth:`add` in staging
    order; :meth:`freeze` drops the staging's look-up dicts; :meth:`take` reorders."""

    __slots__ = ("refs", "values", "ids", "_pool", "_items")

    def __init__(self) -> None:
        self.refs: list[str] = []
        self.values: list = list(_FIXED)
        self.ids = array("i")
        self._pool: dict | None = {}  # pooled value -> its id (staging only)
        self._items: dict | None = {}  # a number or name inside a list -> one object for it (staging only)

    def add(self, ref: str, fields: tuple) -> None:
        """Append a record: ``fields`` in :data:`FIELDS` order (what :func:`records.rec_fields`
        gives)."""
        values, pool, items, ids = self.values, self._pool, self._items, self.ids
        self.refs.append(ref)
        for name, v in zip(FIELDS, fields, strict=True):
            if v is None:
                ids.append(0)
            elif v is False or v is True:
                ids.append(3 if v else 2)
            elif v == () and type(v) is tuple:
                ids.append(1)
            elif name in _POOLED:
                found = pool.get(v)
                if found is None:
                    found = pool[v] = len(values)
                    values.append(v)
                ids.append(found)
            else:
                if name == "phones" or name == "contacts":
                    share = items.setdefault
                    v = tuple([share(x, x) for x in v])
                ids.append(len(values))
                values.append(v)

    def freeze(self) -> Columns:
        """Drop the look-up dicts once every record is in (the values stay in ``values``)."""
        self._pool = self._items = None
        return self

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> Rec:
        """Record ``i`` as a :class:`Rec` (made afresh; its values are the table's objects)."""
        v, at = self.values, i * WIDTH
        return Rec(self.refs[i], *[v[x] for x in self.ids[at:at + WIDTH]])

    def __iter__(self) -> Iterator[Rec]:
        return map(self.__getitem__, range(len(self.refs)))

    def column(self, name: str) -> list:
        """One field of every record, in record order (``ref``: the refs list itself)."""
        if name == "ref":
            return self.refs
        v = self.values
        return [v[x] for x in self.ids[_AT[name]::WIDTH]]

    def take(self, order) -> Columns:
        """The records in ``order`` (indexes into these), sharing the value table."""
        out = Columns.__new__(Columns)
        refs, ids = self.refs, self.ids
        out.refs = [refs[i] for i in order]
        out.values, out._pool, out._items = self.values, None, None
        new = array("i")
        for i in order:
            new += ids[i * WIDTH:(i + 1) * WIDTH]
        out.ids = new
        return out

    def by_ref(self) -> Columns:
        """The records in ref order."""
        return self.take(sorted(range(len(self.refs)), key=self.refs.__getitem__))

    def engine_order(self) -> Columns:
        """The records in the engine's order: live first, then by ref."""
        dead, refs = self.ids[_AT["deleted"]::WIDTH], self.refs
        order = sorted(range(len(refs)), key=refs.__getitem__)
        order.sort(key=dead.__getitem__)  # (stable: by ref within live and within deleted)
        return self.take(order)

