"""Contacts staged into a temporary table and read back a batch at a time: the contacts phase of a
resolution without every contact record in memory.

:func:`contacts.stage_contacts` kept every staged contact record as columns (refs, names, phone
tuples, company cores, customer ids: ~110 MB at 100k customers' 332k contact records), held
through the matching and the writes; it set the peak of a full resolution. Here staging writes
the records as they stream into ``tmp_contact_read`` (nothing kept, not even a set of refs to
drop older versions), then one ordered query (SQL) joins them to the customer record and
crosswalk row they link to, keeps the newest version of each ref, works out each record's
company core and customer id (as stage_contacts does) and writes the result, numbered in ref
order, to ``tmp_contact_staged``. What a resolution holds of every record is then the partition's
integer state (block hashes while the components are found, a component label each);
:class:`StagedContacts` streams the records for the passes over all of them and reads one batch
of components (``load_batch``, by number, in bounded sorted look-ups) when it is matched, and the
writes read a chunk of clusters' rows (``rows_of``). ``tests/mappings/identity/test_contact_stage.py``
checks that it stages exactly what stage_contacts holds and resolves to the same crosswalk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import orjson
from sqlalchemy import Column, Connection, Integer, MetaData, Table, Text, select
from sqlalchemy import text as sql

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record
from hub_core.sql import among, codepoint_order, sorted_chunks
from mappings.identity.config import IdentityConfig
from mappings.identity.contact_reads import ContactReads
from mappings.identity.engine import Rec
from mappings.identity.extract import text
from mappings.identity.store import insert_many
from mappings.normalize import NameKey, _name_key, name_key
from mappings.regions import places_compatible

BATCH = 2000  # rows written at a time
CHUNK = 500  # numbers or refs per look-up
_YIELD = 2000  # rows fetched at a time by a streamed read

_meta = MetaData()
# every version of every contact record, in the order read (seq): sources in identity.yaml's
# order, each newest first, so the lowest seq of a ref is the version that wins
_read = Table("tmp_contact_read", _meta, Column("seq", Integer, primary_key=True), Column("ref", Text),
              Column("name", Text), Column("phones", Text), Column("customer_ref", Text), Column("company", Text),
              prefixes=["TEMPORARY"])
# the staged records, numbered in ref order (n): what the engine and the writes read
_staged = Table("tmp_contact_staged", _meta, Column("n", Integer, primary_key=True), Column("ref", Text, index=True),
                Column("name", Text), Column("phones", Text), Column("core", Text), Column("customer_id", Text),
                prefixes=["TEMPORARY"])


def phones_json(phones) -> str:
    """``json.dumps(list(phones))``, written directly for normalized numbers (digits and dashes
    need no escaping); anything else goes through ``json``."""
    if not phones:
        return "[]"
    flat = "".join(phones)
    if flat.isascii() and flat.isprintable() and '"' not in flat and "\\" not in flat:
        return '["' + '", "'.join(phones) + '"]'
    return json.dumps(list(phones))


def rec_of(ref: str, name: str | None, phones: tuple, company: str, customer_id: str | None) -> Rec:
    """A staged contact record as the engine sees it (see contacts.py's module docstring)."""
    # positional, in Rec's field order: ref, system, key, aliases, uscc, code_raw, link_code,
    # phones, address, contacts, deleted, scope
    return Rec(ref, ref.partition(":")[0], NameKey(f"{name}@{company}", None) if name else None,
               (), None, None, phones[0] if phones else None, phones[1:], None, (), False, customer_id)


def _phones(stored: str) -> tuple:
    return tuple(orjson.loads(stored)) if stored != "[]" else ()


class StagedContacts:
    """The staged contact records of one resolution, in ``tmp_contact_staged`` (see the module
    docstring): a sequence of engine records in ref order that is read, not held."""

    def __init__(self, conn: Connection, count: int) -> None:
        self.conn, self.count = conn, count

    def __len__(self) -> int:
        return self.count

    def _select(self):
        t = _staged.c
        return select(t.n, t.ref, t.name, t.phones, t.core, t.customer_id)

    def __iter__(self) -> Iterator[Rec]:
        """Every record's engine record, in ref order (streamed)."""
        with self.conn.execute(self._select().order_by(_staged.c.n).execution_options(yield_per=_YIELD)) as found:
            for _, ref, name, phones, core, cid in found:
                yield rec_of(ref, name, _phones(phones), core, cid)

    def load_batch(self, numbers: Iterable[int]) -> list[Rec]:
        """The engine records of the records numbered ``numbers``, in that order (read in sorted
        chunks: partition.py's batch of components)."""
        numbers = list(numbers)
        got = {}
        for part in sorted_chunks(numbers, CHUNK):
            for n, ref, name, phones, core, cid in self.conn.execute(self._select().where(among(_staged.c.n, part))):
                got[n] = rec_of(ref, name, _phones(phones), core, cid)
        return [got[n] for n in numbers]

    def rows(self) -> Iterator[tuple[str, str | None, str, str | None]]:
        """(ref, name, phones as JSON, customer id) of every record, in ref order (streamed)."""
        t = _staged.c
        with self.conn.execute(select(t.ref, t.name, t.phones, t.customer_id).order_by(t.n)
                               .execution_options(yield_per=_YIELD)) as found:
            yield from found

    def rows_of(self, refs: Iterable[str]) -> dict[str, tuple[str | None, str, str | None]]:
        """ref -> (name, phones as JSON, customer id) of the staged records of ``refs``."""
        t, out = _staged.c, {}
        for part in sorted_chunks(refs, CHUNK):
            for ref, name, phones, cid in self.conn.execute(
                    select(t.ref, t.name, t.phones, t.customer_id).where(among(t.ref, part))):
                out[ref] = (name, phones, cid)
        return out

    def drop(self) -> None:
        """Drop the temporary tables (also dropped with the session)."""
        for table in (_read, _staged):
            table.drop(self.conn, checkfirst=True)


def _write_reads(conn: Connection, cfg: IdentityConfig, source_for, reads: ContactReads | None) -> None:
    """Every contact record read, as it streams, into ``tmp_contact_read``."""
    seq, batch = 0, []
    for src, records in (reads or ContactReads(conn, cfg, source_for)).each():
        prefix = f"{src.system}:{src.object}:"
        for c in records:
            if not c.natural:
                continue
            batch.append({"seq": seq, "ref": prefix + c.natural, "name": c.name, "phones": phones_json(c.phones),
                          "customer_ref": c.customer_ref, "company": c.company})
            seq += 1
            if len(batch) >= BATCH:
                insert_many(conn, _read, batch)
                batch = []
    insert_many(conn, _read, batch)


def _customers_by_name(conn: Connection, cores: set[str] | None = None) -> dict[str, set[tuple[str | None, str]]]:
    """Name core -> (place, customer id) of every live customer record (``cores``: of these name
    cores only): a contact that only names its company (WeCom ``corp_full_name``) belongs to the
    one customer the name fits."""
    out: dict[str, set] = {}
    if cores is not None and not cores:
        return out
    q = (select(customer_record.c.name_key, customer_record.c.name_place, customer_xref.c.customer_id)
         .join(customer_xref, customer_xref.c.ref == customer_record.c.ref).where(~customer_record.c.is_deleted))
    for core, place, cid in conn.execute(q):
        if core and (cores is None or core in cores):
            out.setdefault(core, set()).add((place, cid))
    return out


def _customer_by_name(index, key: NameKey | None) -> str | None:
    if key is None:
        return None
    fits = {cid for place, cid in index.get(key.core, ()) if places_compatible(place, key.place)}
    return fits.pop() if len(fits) == 1 else None


def _fits_by_company(conn: Connection) -> dict[int, str]:
    """seq -> the customer id of a record that names no customer record, only its company, when
    the company's name fits exactly one customer (contacts.stage_contacts' ``by_company``)."""
    r = _read.c
    keyed = []
    for seq, company in conn.execute(select(r.seq, r.company).where(r.customer_ref.is_(None), r.company.is_not(None))):
        key = name_key(text(company))
        if key is not None:
            keyed.append((seq, key))
    by_name = _customers_by_name(conn, {key.core for _, key in keyed})
    return {seq: cid for seq, key in keyed if (cid := _customer_by_name(by_name, key)) is not None}


def stage_contacts_on_demand(conn: Connection, cfg: IdentityConfig, source_for,
                             reads: ContactReads | None = None) -> StagedContacts:
    """:func:`contacts.stage_contacts` into ``tmp_contact_staged`` (see the module docstring):
    the same records, company cores and customer ids, numbered in the same (ref) order."""
    for table in (_read, _staged):  # (left by a rolled-back resolution on this connection: SQLite keeps it)
        table.drop(conn, checkfirst=True)
        table.create(conn)
    _write_reads(conn, cfg, source_for, reads)
    if conn.dialect.name == "postgresql":  # autovacuum never analyses a temporary table
        conn.execute(sql(f"ANALYZE {_read.name}"))
    fits = _fits_by_company(conn)
    r, c, x = _read.c, customer_record.c, customer_xref.c
    query = (select(r.seq, r.ref, r.name, r.phones, r.customer_ref, r.company, c.ref, c.name_key, x.customer_id)
             .select_from(_read.outerjoin(customer_record, c.ref == r.customer_ref)
                          .outerjoin(customer_xref, x.ref == r.customer_ref))
             .order_by(codepoint_order(conn, r.ref), r.seq).execution_options(yield_per=_YIELD))
    n, last, batch = 0, None, []
    for seq, ref, name, phones, customer_ref, company, linked, core, cid in conn.execute(query):
        if ref == last:
            continue  # an older version (or one read later) of a record already staged
        if last is not None and not last < ref:
            raise RuntimeError(f"contacts not read in code point order ({last!r} before {ref!r})")
        last = ref
        if not (customer_ref and linked is not None):  # no customer record: the company's name
            key = name_key(text(company))
            core = key.core if key else None
        if not customer_ref:
            cid = fits.get(seq)
        batch.append({"n": n, "ref": ref, "name": name, "phones": phones, "core": core or "", "customer_id": cid})
        n += 1
        if len(batch) >= BATCH:
            insert_many(conn, _staged, batch)
            batch = []
    insert_many(conn, _staged, batch)
    _name_key.cache_clear()  # (the companies' keys: nothing reads them again)
    _read.drop(conn)
    return StagedContacts(conn, n)
