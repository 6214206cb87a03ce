"""The normalised company name of each contact the crosswalk does not know (``contact_company``),
kept from build to build, and which of those contacts an incremental build must link again.

Contacts linked by company name (links._by_company) compare a contact's normalised company name
and name key with the customer records'. Normalising is Python (mappings/normalize.py), and every
build normalised every such contact again: 13.6k at 10k customers, plus writing them to a
temporary table, ~0.3 s of the hub's CPU and ~0.45 s of PostgreSQL's for a 1 % change. Kept here,
a full build (or a warehouse that has none yet) normalises them all; an incremental one only the
contacts it re-mapped and those whose customer_ref a changed record carries.

Which contacts can come out differently: a contact's link by company name reads its own row
(company name, customer_ref), whether the crosswalk knows its customer_ref, and the live customer
records (with their crosswalk customer) whose normalised name equals its name or whose name key
equals its core. So it can change only if the contact was re-mapped or forgotten, its
customer_ref is a record whose crosswalk row changed, or one of those records changed, came, went
or moved to another customer - then that record carried (before or after) the contact's name or
core, which :class:`~mappings.identity.resolve.ResolveStats` collects. Every other contact keeps
the customer the last build gave it. ``tests/mappings/test_incremental_build.py`` compares with a
full rebuild.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, exists, select

from hub_core.schema import customer_xref
from hub_core.schema_identity import contact_company
from hub_core.schema_unified import contact
from hub_core.sql import among, sorted_chunks
from mappings.normalize import name_key, normalize_name
from mappings.staging import insert_rows

CHUNK = 500  # values per look-up
BATCH = 2000  # contacts normalised and written at a time


def unknown_to_crosswalk():
    """Contacts the crosswalk does not know (no customer_ref, or one no record carries)."""
    c, x = contact.c, customer_xref.c
    return c.customer_ref.is_(None) | ~exists().where(x.ref == c.customer_ref)


def _keep(conn: Connection, query) -> None:
    """Normalise the company name of the contacts ``query`` selects (ref, company_name) into
    ``contact_company``, a batch at a time as they stream past."""
    batch: list[dict] = []
    for ref, company in conn.execute(query.execution_options(yield_per=BATCH)):
        key = name_key(company) if company is not None else None
        batch.append({"ref": ref, "name_norm": None if company is None else normalize_name(company) or "",
                      "core": key.core if key and key.core else None, "place": key.place if key else None})
        if len(batch) >= BATCH:
            insert_rows(conn, contact_company, batch)
            batch = []
    insert_rows(conn, contact_company, batch)


def chunks(values: set[str]):
    """``values`` sorted, in look-up sized lists."""
    return sorted_chunks(values, CHUNK)


def relinked(conn: Connection, scope, records: set[str]) -> set[str]:
    """The contacts an incremental build links again at all: those it re-mapped or forgot
    (``scope``: links.Scope) and those whose customer_ref is one of ``records`` (customer records
    whose crosswalk row may have come, gone or moved). Every other contact still has the customer
    the last build gave it: its row and its crosswalk row are as they were."""
    c = contact.c
    out = scope.touched.get(contact.name, set()) | scope.forgotten.get(contact.name, set())
    for part in chunks(records):
        out.update(conn.execute(select(c.ref).where(among(c.customer_ref, part))).scalars())
    return out


def refresh(conn: Connection, relinked: set[str] | None = None, norms: set[str] | None = None,
            cores: set[str] | None = None) -> set[str] | None:
    """Bring ``contact_company`` up to date and return the contacts to link by company name again:
    None (all of them) for a full build (``relinked`` None) or when the table is empty (a
    warehouse from before it, or one without such contacts: nothing is saved then); else the refs
    whose link can change (see the module doc). ``relinked``: :func:`relinked`; ``norms`` /
    ``cores``: the normalised names and name keys the changed customer records carry or carried."""
    c, k = contact.c, contact_company.c
    if relinked is None or conn.execute(select(k.ref).limit(1)).first() is None:
        conn.execute(delete(contact_company))
        _keep(conn, select(c.ref, c.company_name).where(unknown_to_crosswalk()))
        return None
    again = set(relinked)
    for part in chunks(again):
        conn.execute(delete(contact_company).where(among(k.ref, part)))
        _keep(conn, select(c.ref, c.company_name).where(among(c.ref, part), unknown_to_crosswalk()))
    for column, values in ((k.name_norm, norms), (k.core, cores)):
        for part in chunks(values or set()):
            again.update(conn.execute(select(k.ref).where(among(column, part))).scalars())
    return again


def linked_anew(conn: Connection, refs: set[str] | None):
    """(ref, customer_id now, name_norm, core, place) of the contacts to link by company name
    (``refs``; None: all), as ``contact_company`` holds them: the rows of links._by_company's
    temporary table, selected in chunks of refs."""
    c, k = contact.c, contact_company.c
    query = select(k.ref, c.customer_id, k.name_norm, k.core, k.place).select_from(
        contact_company.join(contact, c.ref == k.ref)).where(unknown_to_crosswalk())
    if refs is None:
        yield query
        return
    for part in chunks(refs):
        yield query.where(among(k.ref, part))

