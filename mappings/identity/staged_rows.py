"""The staged customer rows of an incremental resolution, read from ``customer_record`` when asked.

An incremental staging restages only the records its changes touch; every other record keeps the
row the last build staged. It used to read all of them back (and hold each twice: the result row
and a dict copy) for the whole resolution: at 10k customers that was most of the ~110 MB an
incremental build's resolution added over its start, so the incremental build peaked above the
full one (which streams its staging), and it grew with the warehouse - ~1 GB at 100k customers -
however small the change. Here only the refs are held; a row is read (a chunk of refs at a
time, :meth:`StagedRows.load`) when the closure walk, matching or the writes reach its record,
and kept for the rest of the resolution. A pass over every row (:meth:`StagedRows.items`: the
index rebuilt, most records changed) reads them all, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from sqlalchemy import Connection, select

from hub_core.schema_identity import customer_record
from hub_core.sql import among, sorted_chunks

CHUNK = 500
_COLUMNS = [c for c in customer_record.c if c.name != "changed_at"]  # as records._stored leaves them


class StagedRows(Mapping):
    """ref -> staged row (a dict, as records._row makes it) of every current customer record:
    ``fresh`` (restaged by this build, held) and ``stored`` (the refs of the rows kept from the last
    build, read on demand). ``fresh`` and ``stored`` are disjoint."""

    def __init__(self, conn: Connection, stored: set[str], fresh: dict[str, dict]) -> None:
        self.conn, self.stored, self.fresh = conn, stored, fresh
        self._read: dict[str, dict] = {}

    def load(self, refs: Iterable[str]) -> None:
        """Read the rows of those ``refs`` that are stored and not read yet (a query per chunk)."""
        todo = {r for r in refs if r in self.stored and r not in self._read}
        for part in sorted_chunks(todo, CHUNK):
            for row in self.conn.execute(select(*_COLUMNS).where(among(customer_record.c.ref, part))):
                self._read[row.ref] = dict(row._mapping)

    def __getitem__(self, ref: str) -> dict:
        row = self.fresh.get(ref)
        if row is not None:
            return row
        if ref not in self._read:
            if ref not in self.stored:
                raise KeyError(ref)
            self.load((ref,))
        return self._read[ref]

    def __contains__(self, ref: object) -> bool:
        return ref in self.fresh or ref in self.stored

    def __iter__(self) -> Iterator[str]:
        yield from self.fresh
        yield from self.stored

    def __len__(self) -> int:
        return len(self.fresh) + len(self.stored)

    def items(self):
        """Every (ref, row), the stored rows read first a chunk at a time (not one at a time)."""
        self.load(self.stored)
        return {ref: self[ref] for ref in self}.items()


def stored_rows(conn: Connection, refs: set[str]) -> dict:
    """ref -> stored row (a result row, every column) of those of ``refs`` staged by the last build."""
    out = {}
    for part in sorted_chunks(refs, CHUNK):
        out.update((r.ref, r) for r in conn.execute(select(customer_record).where(among(customer_record.c.ref, part))))
    return out


def load(rows: Mapping, refs: Iterable[str]) -> None:
    """Read ahead the rows of ``refs`` when ``rows`` reads on demand (a dict has them all)."""
    if isinstance(rows, StagedRows):
        rows.load(refs)
