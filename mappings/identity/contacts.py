"""Contacts (persons at customers) resolved with the same engine and the same id registry.

How a person maps onto the engine's record: the name key is ``<person>@<company core>`` (the
same name at another company is another person), the first mobile is the deterministic link
(same mobile, same person), the customer id is the record's scope (contacts of two different
customers never merge - but sharing a customer is no reason to merge either: two people at one
account stay two), the other numbers are phone evidence. Contact ids are stable
like customer ids; only differences are written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, select

from hub_core.schema import customer_xref
from hub_core.schema_identity import contact_xref
from mappings.identity.config import IdentityConfig
from mappings.identity.contact_reads import ContactReads
from mappings.identity.engine import Rec, paused_gc
from mappings.identity.extract import text
from mappings.identity.partition import resolve_partitioned
from mappings.identity.registry import Registry, assign, persist
from mappings.identity.store import sync_rows, table_rows
from mappings.normalize import NameKey, _name_key, name_key
from mappings.regions import places_compatible

ENTITY = "contact"
CHUNK = 10000  # contacts' crosswalk rows made and written at a time


@dataclass
class ContactStats:
    records: int
    contacts: int
    issued: int
    rows_written: int


def _customers_by_name(conn: Connection, cores: set[str] | None = None) -> dict[str, set[tuple[str | None, str]]]:
    """Name core -> (place, customer id) of every live customer record (``cores``: of these name
    cores only): a contact that only names its company (WeCom ``corp_full_name``) belongs to the
    one customer the name fits."""
    from hub_core.schema_identity import customer_record

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


class ContactRow(NamedTuple):
    """One staged contact record (a tuple, not a dict: 196k of them at 100k customers)."""

    ref: str
    name: str | None
    phones: tuple[str, ...]
    company: str  # the name core of its customer record, or of the company it names ("": none)
    customer_id: str | None


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
                   ) -> list[ContactRow]:
    """One row per contact record: ref, person name, phones, company core and customer id
    (``reads``: the contact records as customer staging read them, else read here). A contact
    of a customer record takes that record's staged name core as its company; one that only
    names its company (WeCom) is keyed by that name and placed at the one customer it fits.
    The records are read once, as they stream (a list of every contact record and the rows
    made of them were both held before)."""
    found: dict[str, tuple] = {}
    share = {}.setdefault  # one object per distinct name and numbers (a person in several systems)
    for src, records in (reads or ContactReads(conn, cfg, source_for)).each():
        prefix = f"{src.system}:{src.object}:"
        for c in records:
            if not c.natural:
                continue
            ref = prefix + c.natural
            if ref not in found:  # newest landed version wins
                found[ref] = (share(c.name, c.name), share(c.phones, c.phones), c.customer_ref, c.company)
    cores, customer_of = _linked(conn, {c[2] for c in found.values() if c[2]})
    rows: list[ContactRow] = []
    by_company: list[tuple[int, NameKey]] = []  # rows whose customer is the one their company name fits
    for ref, (name, phones, customer_ref, company) in found.items():
        if customer_ref and customer_ref in cores:
            key, core = None, cores[customer_ref]
        else:
            key = name_key(text(company))
            core = key.core if key else None
        if not customer_ref and key is not None:
            by_company.append((len(rows), key))
        rows.append(ContactRow(ref, name, phones, core or "", customer_of.get(customer_ref) if customer_ref else None))
    del found, cores, customer_of
    by_name = _customers_by_name(conn, {key.core for _, key in by_company})
    for n, key in by_company:
        rows[n] = rows[n]._replace(customer_id=_customer_by_name(by_name, key))
    _name_key.cache_clear()  # (the companies' keys: nothing reads them again)
    return rows


def phones_json(phones) -> str:
    """``json.dumps(list(phones))``, written directly for normalized numbers (digits and dashes
    need no escaping); anything else goes through ``json``."""
    if not phones:
        return "[]"
    flat = "".join(phones)
    if flat.isascii() and flat.isprintable() and '"' not in flat and "\\" not in flat:
        return '["' + '", "'.join(phones) + '"]'
    return json.dumps(list(phones))


def _rec(row: ContactRow) -> Rec:
    phones = tuple(row.phones)
    name = row.name
    ref = row.ref
    # positional, in Rec's field order: ref, system, key, aliases, uscc, code_raw, link_code,
    # phones, address, contacts, deleted, scope
    return Rec(ref, ref.partition(":")[0], NameKey(f"{name}@{row.company}", None) if name else None,
               (), None, None, phones[0] if phones else None, phones[1:], None, (), False, row.customer_id)


def resolve_contacts(conn: Connection, cfg: IdentityConfig, source_for, now,
                     reads: ContactReads | None = None) -> ContactStats:
    """Resolve every contact record into persons with stable ids; write only what differs
    (``reads``: the contact records customer staging read; released once staged)."""
    with paused_gc():  # see paused_gc: staging builds a dict per contact record
        return _resolve_contacts(conn, cfg, source_for, now, reads)


def _resolve_contacts(conn: Connection, cfg: IdentityConfig, source_for, now, reads) -> ContactStats:
    rows = stage_contacts(conn, cfg, source_for, reads)
    if reads is not None:
        reads.release()
    existing = table_rows(conn, contact_xref, "ref")
    same = len(rows) == len(existing) and all(
        (e := existing.get(r.ref)) is not None and (e["name"], e["phones"]) == (r.name, phones_json(r.phones))
        and r.customer_id in (None, e["customer_id"]) for r in rows)
    if same:  # nothing a match depends on moved: skip the engine, write nothing
        return ContactStats(len(rows), len({e["contact_id"] for e in existing.values()}), 0, 0)
    # persons: no typo blocks (names are short and common; a mobile or the company decides);
    # matched a batch of connected components at a time (partition.py): the same result
    result = resolve_partitioned(rows, cfg.matching.model_copy(update={"typo_blocks": False}), make=_rec)
    prev = {ref: row["contact_id"] for ref, row in existing.items()}
    reg = Registry(conn, ENTITY)
    out = assign(reg, result.clusters, prev, {}, {ref: j.rule for ref, j in result.joins.items()})
    written = persist(reg, out, set(prev.values()) - set(reg.rows), now)
    by_ref = {r.ref: r for r in rows}
    del rows
    held: set[str] = set()
    for start in range(0, len(result.clusters), CHUNK):  # the desired rows a chunk at a time
        desired = {}
        for n in range(start, min(start + CHUNK, len(result.clusters))):
            refs = result.clusters[n]
            customer_id = next((by_ref[r].customer_id for r in refs if by_ref[r].customer_id), None)
            for ref in refs:
                r = by_ref[ref]
                desired[ref] = {"ref": ref, "contact_id": out.ids[n], "customer_id": customer_id, "name": r.name,
                                "phones": phones_json(r.phones), "match_method": result.joins[ref].rule}
        held.update(desired)
        written += sync_rows(conn, contact_xref, "ref", set(desired), desired, existing)
    written += sync_rows(conn, contact_xref, "ref", set(existing) - held, {}, existing)  # contacts gone
    return ContactStats(len(by_ref), len(result.clusters), len(out.issued), written)
