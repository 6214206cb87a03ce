"""Which staged customer records an incremental build must restage: those whose raw records (or
whose contacts' raw records) got a new version since the last build.

Split off :mod:`mappings.identity.records` (the staging itself); re-exported there.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from sqlalchemy import Connection, select

from hub_core.schema import raw_record
from mappings.identity.config import IdentityConfig
from mappings.identity.contact_reads import get_path
from mappings.identity.extract import text

_text = text  # the staged form of a field's value (see extract.text)


def _versions_since(conn: Connection, source: str, stream: str, since: int,
                    keys_out: set[str] | None = None) -> Iterator[dict]:
    """Every landed version (current or not) of the records of a stream that got a new version
    after raw id ``since``: what a record says now and what it said before (``keys_out``: gets
    their record keys)."""
    r = raw_record.c
    keys = sorted(set(conn.execute(select(r.record_key).where(r.source == source, r.stream == stream,
                                                             r.id > since)).scalars()))
    if keys_out is not None:
        keys_out.update(keys)
    for i in range(0, len(keys), 500):  # by key (index ix_raw_record_versions), not a scan of raw
        query = select(r.data).where(r.source == source, r.stream == stream, r.record_key.in_(keys[i:i + 500]))
        for (data,) in conn.execute(query):
            rec = orjson.loads(data)
            if isinstance(rec, dict):
                yield rec


def affected_refs(conn: Connection, cfg: IdentityConfig, source_for, since: int,
                  keys: dict | None = None) -> set[str]:
    """Customer refs whose staged row may differ from the last build's, when only raw records
    landed after ``since`` are new: the refs any version of a changed customer record carried
    (a changed id moves a record), and the customers any version of a changed contact pointed at
    (a contact moved between customers changes both). ``keys``: gets the record keys of the
    changed customer records per (system, stream), and under ``"contacts"`` the refs only a
    changed contact names (what :func:`_stage` may narrow its read to)."""
    refs: set[str] = set()
    for src in cfg.customers:
        out = None if keys is None else keys.setdefault((src.system, src.stream), set())
        for rec in _versions_since(conn, source_for(src.system), src.stream, since, out):
            natural = _text(get_path(rec, src.id))
            if natural:
                refs.add(f"{src.system}:{src.object}:{natural}")
    for src in cfg.contacts:
        if not src.customer:
            continue
        for rec in _versions_since(conn, source_for(src.system), src.stream, since):
            link = _text(get_path(rec, src.customer.field))
            if link:
                refs.add(src.customer.ref.format(link))
                if keys is not None:
                    keys.setdefault("contacts", set()).add(src.customer.ref.format(link))
    return refs
