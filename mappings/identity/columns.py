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


class Columns:
    """Engine records as columns (see the module docstring). Made by :meth:`add` in staging
    order; :meth:`freeze` drops the staging's look-up dicts; :meth:`reorder` reorders."""

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
        system, key, aliases, uscc, code_raw, link_code, phones, address, contacts, deleted, scope, cities = fields
        pooled, own = self._pooled, self._own
        if phones:
            share = self._items.setdefault
            phones = tuple([share(x, x) for x in phones])
        if contacts:
            share = self._items.setdefault
            contacts = tuple([share(x, x) for x in contacts])
        self.refs.append(ref)
        self.ids.extend((pooled(system), pooled(key), own(aliases), pooled(uscc), own(code_raw),
                         pooled(link_code), own(phones), pooled(address), own(contacts), 3 if deleted else 2,
                         pooled(scope), pooled(cities)))

    def _pooled(self, v) -> int:
        """The id of a value records repeat (one object for all of them)."""
        if v is None:
            return 0
        if v == () and type(v) is tuple:
            return 1
        found = self._pool.get(v)
        if found is None:
            found = self._pool[v] = len(self.values)
            self.values.append(v)
        return found

    def _own(self, v) -> int:
        """The id of a record's own value (appended: no look-up)."""
        if v is None:
            return 0
        if v == () and type(v) is tuple:
            return 1
        self.values.append(v)
        return len(self.values) - 1

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

    def fields(self, *names: str):
        """Tuples of these fields of every record, in record order (no Rec made)."""
        get, ids = self.values.__getitem__, self.ids
        return zip(*[self.refs if n == "ref" else map(get, ids[_AT[n]::WIDTH]) for n in names])

    def reorder(self, order) -> Columns:
        """Put the records in ``order`` (indexes into the current order), in place: the old
        arrays are dropped as the new ones are made (a full resolution keeps one copy)."""
        refs, ids = self.refs, self.ids
        self.refs = [refs[i] for i in order]
        del refs
        new = array("i")
        for i in order:
            new += ids[i * WIDTH:(i + 1) * WIDTH]
        self.ids = new
        return self

    def by_ref(self) -> Columns:
        """These records, reordered by ref (in place)."""
        return self.reorder(sorted(range(len(self.refs)), key=self.refs.__getitem__))

    def engine_order(self) -> Columns:
        """These records, reordered as the engine orders records: live first, then by ref (in
        place: the engine's records are its caller's, reordered)."""
        dead, refs = self.ids[_AT["deleted"]::WIDTH], self.refs
        order = sorted(range(len(refs)), key=refs.__getitem__)
        order.sort(key=dead.__getitem__)  # (stable: by ref within live and within deleted)
        return self.reorder(order)
