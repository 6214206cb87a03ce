"""The current contact records of every contact source, read and cleaned once per resolution.

Both stagings use them: customer staging takes the contacts' names and numbers as evidence for
the customer records they are linked to; contact staging makes its rows from them. Split from
``records.py`` (customer staging) to keep each module small.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, select

from hub_core.schema import raw_record
from mappings.identity.config import IdentityConfig
from mappings.identity.extract import getter, person, phones_of, text

_YIELD_PER = 2000  # rows fetched at a time from a stream's current versions


def iter_current(conn: Connection, source: str, stream: str) -> Iterator[dict]:
    """The current version of every landed record of one stream, newest first, one per natural id
    (streams landed without key properties keep every version current)."""
    query = (select(raw_record.c.record_key, raw_record.c.data)
             .where(raw_record.c.source == source, raw_record.c.stream == stream, raw_record.c.is_current,
                    raw_record.c.deleted_at.is_(None))  # soft-deleted at the source: gone
             .order_by(raw_record.c.id.desc()).execution_options(yield_per=_YIELD_PER))
    for _, data in conn.execute(query):
        yield orjson.loads(data)


def get_path(obj, path: str):
    """A dotted path into nested objects; lists along the way yield lists."""
    return getter(path)(obj)


class ContactRead(NamedTuple):
    """One contact record as both stagings read it: its natural id, the customer record it
    names (``customer.ref`` of identity.yaml), the person's name and numbers, the company it names."""

    natural: str | None
    customer_ref: str | None
    name: str | None
    phones: tuple[str, ...]
    company: str | None


def first_text(rec, paths: str | list[str] | None) -> str | None:
    """The first of ``paths`` that holds text in ``rec`` (a contact's company: WeCom
    ``corp_full_name``, else ``remark_corp_name``, as identity.yaml orders them)."""
    for path in [paths] if isinstance(paths, str) else paths or []:
        found = text(getter(path)(rec))
        if found:
            return found
    return None


class ContactReads:
    """The current contact records of every contact source, read and cleaned once per
    resolution: customer staging takes their names and numbers as evidence, contact staging its
    rows (each used to parse every contact record again). Read on first use; ``release`` frees them."""

    def __init__(self, conn: Connection, cfg: IdentityConfig, source_for) -> None:
        self.conn, self.cfg, self.source_for = conn, cfg, source_for
        self._reads: list[tuple] | None = None
        self._by_stream: dict[tuple[str, str], list[ContactRead]] = {}
        # False: :meth:`linked` streams the records instead of keeping them for contact staging
        # (a full resolution: ~100 MB at 100k customers, held through all of customer staging)
        self.keep = True

    def sources(self) -> list[tuple]:
        """(contact source, its records as :class:`ContactRead`, newest first) per source."""
        if self._reads is None:
            self._reads = [(src, self._source(src)) for src in self.cfg.contacts]
        return self._reads

    def each(self) -> Iterator[tuple]:
        """:meth:`sources`, each source's records as they are read unless they are kept already
        (contact staging reads each record once: nothing is kept for it)."""
        if self._reads is not None:
            yield from self._reads
            return
        for src in self.cfg.contacts:
            cached = self._by_stream.get((src.system, src.stream))
            yield src, (cached if cached is not None else self._iter(src))

    def linked(self, only: set[str] | None = None) -> list[tuple]:
        """:meth:`sources` of the contact sources linked to customer records only: all customer
        staging reads (an incremental build then never reads the unlinked ones, WeCom's).
        ``only``: just the records linked to these customer refs (the others are not cleaned,
        and nothing is kept for contact staging)."""
        out = []
        for src in self.cfg.contacts:
            if not src.customer:
                continue
            cached = self._by_stream.get((src.system, src.stream))
            if cached is not None:
                out.append((src, cached))
            elif only is None and self.keep:
                out.append((src, self._source(src)))
            elif only is None:  # read as it is used, nothing kept
                out.append((src, self._iter(src)))
            else:
                out.append((src, self._read(src, only)))
        return out

    def _source(self, src) -> list[ContactRead]:
        key = (src.system, src.stream)
        if key not in self._by_stream:
            self._by_stream[key] = self._read(src)
        return self._by_stream[key]

    def release(self) -> None:
        self._reads, self._by_stream = None, {}

    def _read(self, src, only: set[str] | None = None) -> list[ContactRead]:
        return list(self._iter(src, only))

    def _iter(self, src, only: set[str] | None = None) -> Iterator[ContactRead]:
        id_of, name_of = getter(src.id), getter(src.name)
        phone_fields = [getter(p) for p in src.phones]
        link_of = getter(src.customer.field) if src.customer else None
        ref_of = src.customer.ref.format if src.customer else None
        company = src.company
        company_of = [getter(p) for p in ([company] if isinstance(company, str) else company or [])]
        for rec in iter_current(self.conn, self.source_for(src.system), src.stream):
            link = text(link_of(rec)) if link_of else None
            customer_ref = ref_of(link) if link else None
            if only is not None and customer_ref not in only:
                continue
            yield ContactRead(text(id_of(rec)), customer_ref, person(text(name_of(rec))),
                              phones_of([f(rec) for f in phone_fields]),
                              _first_text(rec, company_of) if company_of else None)


def _first_text(rec, getters) -> str | None:
    """:func:`first_text` with the paths' getters made once."""
    for get in getters:
        found = text(get(rec))
        if found:
            return found
    return None


def contact_index(reads: ContactReads, only: set[str] | None = None) -> dict[str, tuple[set, set]]:
    """Customer ref -> (contact names, contact phones) from the contact streams linked to customers
    (``only``: just for these customer refs); each a list that may repeat a value."""
    out: dict[str, tuple[list, list]] = {}
    for _src, records in reads.linked(only):
        for c in records:
            ref = c.customer_ref
            if not ref or (only is not None and ref not in only):
                continue
            entry = out.get(ref)
            if entry is None:  # lists, not sets (~0.4 kB less per customer; the reader dedupes)
                entry = out[ref] = ([], [])
            if c.name:
                entry[0].append(c.name)
            entry[1].extend(c.phones)
    return out
