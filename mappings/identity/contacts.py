"""Contacts (persons at customers) resolved with the same engine and the same id registry.

How a person maps onto the engine's record: the name key is ``<person>@<company core>`` (the
same name at another company is another person), the first mobile is the deterministic link
(same mobile, same person), the customer id is the record's scope (contacts of two different
customers never merge - but sharing a customer is no reason to merge either: two people at one
account stay two), the other numbers are phone evidence. Contact ids are stable
like customer ids; only differences are written.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, select

from hub_core.schema import customer_xref
from hub_core.schema_identity import contact_xref
from mappings.identity.config import IdentityConfig
from mappings.identity.contact_reads import ContactReads
from mappings.identity.contact_stage import _customer_by_name as _customer_by_name
from mappings.identity.contact_stage import _customers_by_name as _customers_by_name
from mappings.identity.contact_stage import phones_json as phones_json
from mappings.identity.contact_stage import (  # (the three above re-exported: stage_contacts and tests use them)
    rec_of,
    stage_contacts_on_demand,
)
from mappings.identity.engine import Rec, paused_gc
from mappings.identity.extract import text
from mappings.identity.partition import resolve_partitioned
from mappings.identity.registry import Registry, assign, persist
from mappings.identity.store import sync_rows, table_rows
from mappings.normalize import NameKey, _name_key, name_key

ENTITY = "contact"
CHUNK = 10000  # contacts' crosswalk rows made and written at a time


@dataclass
class ContactStats:
    records: int
    contacts: int
    issued: int
    rows_written: int


class ContactRow(NamedTuple):
    """One staged contact record, as :meth:`ContactColumns.row` gives it."""

    ref: str
    name: str | None
    phones: tuple[str, ...]
    company: str  # the name core of its customer record, or of the company it names ("": none)
    customer_id: str | None


WIDTH = 4  # value ids per contact record: name, phones, company core, customer id


class ContactColumns:
    """Every staged contact record as columns, in ref order: the refs in one list, then
    :data:`WIDTH` value ids per record in one ``array('i')`` (name, phones, company core,
    customer id), an id being a place in one value table (``values``) where equal values are one
    object. A :class:`ContactRow` tuple per record with a dict of what was read (~0.25 kB a
    record, 196k at 100k customers) set the contacts' peak of a full resolution. ``cols[i]`` is
    record ``i``'s engine :class:`Rec`, made when it is needed (partition.py)."""

    __slots__ = ("refs", "values", "ids")

    def __init__(self, refs: list[str], values: list, ids: array) -> None:
        self.refs, self.values, self.ids = refs, values, ids

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> Rec:
        """Record ``i`` as the engine sees it (see the module docstring)."""
        v, at = self.values, i * WIDTH
        return rec_of(self.refs[i], v[self.ids[at]], v[self.ids[at + 1]], v[self.ids[at + 2]], v[self.ids[at + 3]])

    def row(self, i: int) -> ContactRow:
        """Record ``i`` as a :class:`ContactRow`."""
        v, at = self.values, i * WIDTH
        return ContactRow(self.refs[i], *[v[x] for x in self.ids[at:at + WIDTH]])

    def __iter__(self) -> Iterator[Rec]:
        return map(self.__getitem__, range(len(self.refs)))

    def rows(self) -> Iterator[ContactRow]:
        """Every record as a :class:`ContactRow`, in ref order."""
        return map(self.row, range(len(self.refs)))

    def index(self, ref: str) -> int:
        """The record of ``ref`` (-1: none)."""
        i = bisect_left(self.refs, ref)
        return i if i < len(self.refs) and self.refs[i] == ref else -1


class _Pool:
    """A value table being filled: equal values get one id and one object."""

    __slots__ = ("values", "_ids")

    def __init__(self) -> None:
        self.values: list = [None]  # id 0: no value
        self._ids: dict = {}

    def id(self, v) -> int:
        if v is None:
            return 0
        found = self._ids.get(v)
        if found is None:
            found = self._ids[v] = len(self.values)
            self.values.append(v)
        return found


def _linked(conn: Connection, refs: set[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """(name core, customer id) by customer ref, of the customer records contacts link to: the
    whole staging and crosswalk read, only those kept (two dicts of 277k refs at 100k customers
    were ~70 MB, at the contacts' peak of memory)."""
    from hub_core.schema_identity import customer_record

    t, x = customer_record.c, customer_xref.c
    share = {}.setdefault  # one object per core and customer id (a customer's records repeat them)
    cores = {ref: share(core, core) for ref, core in conn.execute(select(t.ref, t.name_key)) if ref in refs}
    customer_of = {ref: share(cid, cid) for ref, cid in conn.execute(select(x.ref, x.customer_id)) if ref in refs}
    return cores, customer_of


def stage_contacts(conn: Connection, cfg: IdentityConfig, source_for, reads: ContactReads | None = None
                   ) -> ContactColumns:
    """Every contact record's ref, person name, phones, company core and customer id, as
    :class:`ContactColumns` (``reads``: the contact records as customer staging read them, else
    read here). A contact of a customer record takes that record's staged name core as its
    company; one that only names its company (WeCom) is keyed by that name and placed at the one
    customer it fits. The records are read once, as they stream."""
    refs: list[str] = []
    seen: set[str] = set()
    ids = array("i")  # name, phones, customer ref, company named: then the customer ref's and company's
    pool, aside = _Pool(), _Pool()  # names and numbers (kept); customer refs and company names (dropped)
    for src, records in (reads or ContactReads(conn, cfg, source_for)).each():
        prefix = f"{src.system}:{src.object}:"
        for c in records:
            if not c.natural:
                continue
            ref = prefix + c.natural
            if ref not in seen:  # newest landed version wins
                seen.add(ref)
                refs.append(ref)
                ids.extend((pool.id(c.name), pool.id(c.phones), aside.id(c.customer_ref), aside.id(c.company)))
    del seen
    named = aside.values
    cores, customer_of = _linked(conn, {named[x] for x in ids[2::WIDTH] if x})
    by_company: list[tuple[int, NameKey]] = []  # rows whose customer is the one their company name fits
    for i in range(len(refs)):
        at = i * WIDTH
        customer_ref, company = named[ids[at + 2]], named[ids[at + 3]]
        if customer_ref and customer_ref in cores:
            key, core = None, cores[customer_ref]
        else:
            key = name_key(text(company))
            core = key.core if key else None
        if not customer_ref and key is not None:
            by_company.append((i, key))
        ids[at + 2] = pool.id(core or "")
        ids[at + 3] = pool.id(customer_of.get(customer_ref) if customer_ref else None)
    del aside, named, cores, customer_of
    by_name = _customers_by_name(conn, {key.core for _, key in by_company})
    for i, key in by_company:
        ids[i * WIDTH + 3] = pool.id(_customer_by_name(by_name, key))
    _name_key.cache_clear()  # (the companies' keys: nothing reads them again)
    del by_name, by_company
    values = pool.values
    del pool  # (its look-up dict, before the sort's list of every record)
    order = sorted(range(len(refs)), key=refs.__getitem__)
    sorted_ids = array("i")
    for i in order:
        sorted_ids += ids[i * WIDTH:(i + 1) * WIDTH]
    return ContactColumns([refs[i] for i in order], values, sorted_ids)


def resolve_contacts(conn: Connection, cfg: IdentityConfig, source_for, now,
                     reads: ContactReads | None = None) -> ContactStats:
    """Resolve every contact record into persons with stable ids; write only what differs
    (``reads``: the contact records customer staging read; released once staged)."""
    with paused_gc():  # see paused_gc: staging builds a dict per contact record
        return _resolve_contacts(conn, cfg, source_for, now, reads)


class _RuleOf:
    """Why each ref is where it is (``registry.assign``'s ``reasons``), read from the joins when
    asked: a dict of every ref's rule was ~10 MB at 100k customers."""

    __slots__ = ("joins",)

    def __init__(self, joins: dict) -> None:
        self.joins = joins

    def get(self, ref: str, default=None):
        join = self.joins.get(ref)
        return default if join is None else join.rule


def _resolve_contacts(conn: Connection, cfg: IdentityConfig, source_for, now, reads) -> ContactStats:
    # staged into a temporary table and read back a batch at a time (contact_stage.py)
    staged = stage_contacts_on_demand(conn, cfg, source_for, reads)
    if reads is not None:
        reads.release()
    existing = table_rows(conn, contact_xref, "ref")
    if len(staged) == len(existing) and _same(staged, existing):  # nothing a match depends on moved
        staged.drop()  # skip the engine, write nothing
        return ContactStats(len(staged), len({e["contact_id"] for e in existing.values()}), 0, 0)
    # persons: no typo blocks (names are short and common; a mobile or the company decides);
    # matched a batch of connected components at a time (partition.py): the same result
    result = resolve_partitioned(staged, cfg.matching.model_copy(update={"typo_blocks": False}), indexes=False)
    prev = {ref: row["contact_id"] for ref, row in existing.items()}
    reg = Registry(conn, ENTITY)
    out = assign(reg, result.clusters, prev, {}, _RuleOf(result.joins))
    written = persist(reg, out, set(prev.values()) - set(reg.rows), now)
    del prev
    for start in range(0, len(result.clusters), CHUNK):  # the desired rows a chunk at a time
        part = result.clusters[start:start + CHUNK]
        got = staged.rows_of(ref for refs in part for ref in refs)
        desired = {}
        for n, refs in enumerate(part, start):
            customer_id = next((got[ref][2] for ref in refs if got[ref][2]), None)
            for ref in refs:
                name, phones, _ = got[ref]
                desired[ref] = {"ref": ref, "contact_id": out.ids[n], "customer_id": customer_id, "name": name,
                                "phones": phones, "match_method": result.joins[ref].rule}
        written += sync_rows(conn, contact_xref, "ref", set(desired), desired, existing)
        del got, desired
    gone = set(existing)  # contacts gone: every staged ref is in a cluster
    if gone:
        with closing(staged.rows()) as rows:
            for ref, *_ in rows:
                gone.discard(ref)
    written += sync_rows(conn, contact_xref, "ref", gone, {}, existing)
    staged.drop()
    return ContactStats(len(staged), len(result.clusters), len(out.issued), written)


def _same(staged, existing: dict[str, dict]) -> bool:
    """Whether every staged record has its crosswalk row with the same name, numbers and (when
    known) customer (read in one pass; stops at the first that differs)."""
    with closing(staged.rows()) as rows:
        for ref, name, phones, customer_id in rows:
            e = existing.get(ref)
            if e is None or (e["name"], e["phones"]) != (name, phones) or customer_id not in (None, e["customer_id"]):
                return False
    return True
