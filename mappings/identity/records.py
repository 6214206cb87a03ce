"""Customer records staged from the current raw records, as the matcher reads them.

Which fields mean what comes from identity.yaml. Each staged row carries a content hash: a
rebuild compares hashes and only rows that changed are rewritten (and re-matched).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Connection, delete, select

from hub_core.schema import raw_record
from hub_core.schema_identity import customer_record
from mappings.declarative.casts import clean_text
from mappings.identity.affected_records import affected_refs
from mappings.identity.cities import infer_cities
from mappings.identity.columns import Columns
from mappings.identity.config import IdentityConfig, SourceRecord
from mappings.identity.contact_reads import ContactReads, contact_index, iter_current
from mappings.identity.engine import Rec
from mappings.identity.extract import (
    address_key,
    clean_strings,
    code_text,
    getter,
    key_text,
    key_text_of,
    norm_name,
    person,
    phones_of,
    release_caches,
    text,
    to_ms,
)
from mappings.identity.staged_rows import StagedRows, stored_rows
from mappings.identity.store import insert_many
from mappings.normalize import (
    NameKey,
    name_key,
    normalize_uscc,
)

BATCH = 2000
log = logging.getLogger(__name__)


_text = text  # the staged form of a field's value (see extract.text)


def _json(value) -> str:
    return orjson.dumps(value).decode()


def _is_deleted(record: dict, rules: dict[str, list]) -> bool:
    return any(record.get(f) in values for f, values in rules.items() if record.get(f) is not None)


_NO_CONTACTS = ((), ())


class _Plan:
    """One source's field paths as getters, made once per staging rather than per record; and
    the staging's shared texts (:meth:`shared`)."""

    def __init__(self, src: SourceRecord, shared: dict[str, str] | None) -> None:
        self.src, self.prefix, self.system = src, f"{src.system}:{src.object}:", src.system
        self.id, self.name = getter(src.id), getter(src.name)
        self.aliases = [getter(a) for a in src.aliases]
        self.uscc = getter(src.uscc) if src.uscc else None
        self.phones = [getter(p) for p in src.phones]
        self.contacts = [(getter(c.name), [getter(p) for p in c.phones]) for c in src.contacts]
        self.owner = getter(src.owner.field) if src.owner else None
        self.address = getter(src.address) if src.address else None
        self.link_code = getter(src.link_code) if src.link_code else None
        self.extra = [(k, getter(path)) for k, path in src.extra.items()]
        self.updated = getter(src.updated) if src.updated else None
        self._shared = shared

    def shared(self, value: str) -> str:
        """One string object per distinct JSON text of the staging (``[]``, an industry): the
        staged rows of 277k records hold them until the resolution ends."""
        return value if self._shared is None else self._shared.setdefault(value, value)


def _clean(value) -> str | None:
    """``clean_text`` of a text (a printable one is clean already), None for anything else."""
    if type(value) is str:
        return value if value.isprintable() else clean_text(value)[0]
    return clean_text(value)[0] if isinstance(value, str) else None


def _row(plan: _Plan, rec: dict, employees, contacts: dict[str, tuple[set, set]]) -> dict | None:
    natural = text(plan.id(rec))
    if not natural:
        return None
    src = plan.src
    ref = plan.prefix + natural
    name = _clean(plan.name(rec))
    key = name_key(name)
    aliases = sorted({t for t in (key_text(text(a(rec))) for a in plan.aliases) if t} - {key_text_of(key)}
                     ) if plan.aliases else ()
    raw_code = plan.uscc(rec) if plan.uscc else None
    uscc = normalize_uscc(raw_code)
    more_names, more_phones = contacts.get(ref, _NO_CONTACTS)
    numbers = phones_of([p(rec) for p in plan.phones])
    if plan.contacts:
        names = set(more_names)
        for contact_name, contact_phones in plan.contacts:
            who = person(text(contact_name(rec)))
            if who:
                names.add(who)
            numbers += phones_of([p(rec) for p in contact_phones])
    else:
        names = set(more_names) if more_names else ()
    if more_phones or plan.contacts:  # (phones_of gave distinct numbers already)
        numbers = tuple(dict.fromkeys(numbers + tuple(sorted(more_phones))))
    owner = None
    if src.owner and employees is not None:
        owner = getattr(employees, src.owner.via)(plan.owner(rec))
    address = text(plan.address(rec)) if plan.address else None
    shared = plan.shared
    row = {
        "ref": ref, "system": plan.system, "natural_id": natural, "name": name,
        "name_norm": norm_name(name), "name_key": key.core if key else None,
        "name_place": key.place if key else None, "aliases": shared(_json(aliases)),
        "uscc": uscc, "uscc_raw": None if uscc else code_text(raw_code),
        "link_code": text(plan.link_code(rec)) if plan.link_code else None,
        "address": address, "address_key": address_key(address),
        "phones": _json(numbers) if numbers else shared("[]"),
        "contacts": _json(sorted(names)) if names else shared("[]"),
        "owner_employee_id": owner,
        "extra": shared(_json({k: v for k, get in plan.extra if (v := text(get(rec)))})),
        "updated_ms": to_ms(plan.updated(rec)) if plan.updated else None,
        "is_deleted": _is_deleted(rec, src.deleted) if src.deleted else False,
    }
    # Whatever path a value took, no text staged carries a NUL/control character (the record is kept).
    clean_strings(row)
    row["content_hash"] = hashlib.sha256(orjson.dumps(row, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return row


@dataclass
class Staged:
    # ref -> current row (empty when streamed: see stage_streaming; an incremental staging's
    # reads the rows kept from the last build when asked: staged_rows.StagedRows)
    rows: Mapping[str, dict]
    changed: set[str]  # new or different since the last build
    removed: dict[str, dict]  # ref -> the row it had, for records gone from the sources
    written: int
    names_moved: bool = True  # a record came, went, or changed a field contacts are staged with
    recs: Columns | None = None  # stage_streaming: the engine records of every current record
    # stage_streaming: how many changed (``changed`` is left empty: on a first build it was a set
    # of every ref, ~8 MB at 100k customers at staging's peak, that a full resolution only counted)
    n_changed: int = 0
    # the normalised names and name keys (cores) changed or removed records carried before or carry
    # now: contacts linked by company name look again only at the contacts naming one of them
    # (mappings/contact_company.py); left empty by stage_streaming (a full build looks at all)
    name_norms: set[str] = field(default_factory=set)
    name_keys: set[str] = field(default_factory=set)


NAME_FIELDS = ("name", "name_key", "name_place", "is_deleted")  # what contact staging reads of a record


def stage_customer_records(conn: Connection, cfg: IdentityConfig, source_for, employees,
                           now: datetime, since: int | None = None, contacts: ContactReads | None = None) -> Staged:
    """Stage the current customer records; rewrite only rows whose content changed. With
    ``since`` (the raw watermark of the last build, whose staging is in ``customer_record``), only
    the records :func:`affected_refs` names are staged afresh; the others are read back.
    ``contacts``: the contact records, when the caller shares them with contact staging."""
    reads = contacts or ContactReads(conn, cfg, source_for)
    if since is None:
        old = {r.ref: r for r in conn.execute(select(customer_record)).all()}
        rows = _stage(conn, cfg, source_for, employees, None, reads)
        removed = {ref: dict(r._mapping) for ref, r in old.items() if ref not in rows}
        fresh_rows = rows
    else:  # only the affected records' rows are read whole; the others when reached (staged_rows.py)
        keys: dict = {}
        only = affected_refs(conn, cfg, source_for, since, keys)
        fresh_rows = _stage(conn, cfg, source_for, employees, only, reads, keys) if only else {}
        old = stored_rows(conn, only)
        stored = set(conn.execute(select(customer_record.c.ref)).scalars()) - only
        rows = StagedRows(conn, stored, {ref: row for ref, row in fresh_rows.items() if ref not in stored})
        removed = {ref: dict(old[ref]._mapping) for ref in only if ref in old and ref not in fresh_rows}
    # (a row kept from the last build is its stored row: only a restaged one can differ)
    changed = {ref for ref, row in fresh_rows.items()
               if ref not in old or old[ref].content_hash != row["content_hash"]}
    stale = sorted((changed & old.keys()) | removed.keys())
    for i in range(0, len(stale), 500):
        conn.execute(delete(customer_record).where(customer_record.c.ref.in_(stale[i:i + 500])))
    fresh = sorted(changed)
    for i in range(0, len(fresh), BATCH):  # (row copies made a batch at a time)
        insert_many(conn, customer_record, [{**rows[ref], "changed_at": now} for ref in fresh[i:i + BATCH]])
    moved = bool(removed) or any(ref not in old or any(getattr(old[ref], f) != rows[ref][f] for f in NAME_FIELDS)
                                 for ref in changed)
    names = [rows[ref] for ref in changed] + [dict(old[ref]._mapping) for ref in changed if ref in old]
    names += removed.values()
    return Staged(rows, changed, removed, len(stale) + len(fresh), moved,
                  name_norms={r["name_norm"] for r in names} - {None}, name_keys={r["name_key"] for r in names} - {None})


class _Sink:
    """Where :func:`_take` puts the rows of a streamed staging: each row is written (a batch at
    a time, when its content changed) and only its engine record is kept."""

    def __init__(self, conn: Connection, now: datetime, old: dict[str, tuple]) -> None:
        self.conn, self.now, self.old = conn, now, old
        self.seen: set[str] = set()
        self.recs = Columns()
        self.changed = 0
        self.batch: list[dict] = []
        self.stale = 0
        self.moved = False

    def __contains__(self, ref: str) -> bool:
        return ref in self.seen

    def __setitem__(self, ref: str, row: dict) -> None:
        self.seen.add(ref)
        self.recs.add(*rec_fields(row))
        old = self.old.get(ref)
        if old is not None and old[0] == row["content_hash"]:
            return
        self.changed += 1
        self.moved = self.moved or old is None or old[1:] != tuple(row[f] for f in NAME_FIELDS)
        self.batch.append(row)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        stale = sorted(r["ref"] for r in self.batch if r["ref"] in self.old)
        for i in range(0, len(stale), 500):
            self.conn.execute(delete(customer_record).where(customer_record.c.ref.in_(stale[i:i + 500])))
        insert_many(self.conn, customer_record, [{**r, "changed_at": self.now} for r in self.batch])
        self.stale += len(stale)
        self.batch = []


def stage_streaming(conn: Connection, cfg: IdentityConfig, source_for, employees, now: datetime,
                    contacts: ContactReads | None = None) -> Staged:
    """:func:`stage_customer_records` of every record (a full staging) that keeps no staged row:
    rows are written as they are made (only those whose content changed) and only their engine
    records are kept (``Staged.recs``; ``rows`` and ``changed`` are empty, ``n_changed`` counts).
    A full resolution reads the rows it writes from back from ``customer_record`` a batch at a
    time: the staged rows of 277k records were the biggest thing held in memory (20 texts each)."""
    t = customer_record.c
    old = {r[0]: tuple(r[1:]) for r in conn.execute(
        select(t.ref, t.content_hash, *(t[f] for f in NAME_FIELDS)))}
    sink = _Sink(conn, now, old)
    _stage(conn, cfg, source_for, employees, None, contacts or ContactReads(conn, cfg, source_for), rows=sink)
    sink.flush()
    gone = sorted(old.keys() - sink.seen)
    removed = {}
    for i in range(0, len(gone), 500):
        part = gone[i:i + 500]
        removed |= {r.ref: _stored(r) for r in conn.execute(select(customer_record).where(t.ref.in_(part)))}
        conn.execute(delete(customer_record).where(t.ref.in_(part)))
    return Staged({}, set(), removed, sink.stale + len(gone) + sink.changed,
                  sink.moved or bool(removed), sink.recs.freeze(), n_changed=sink.changed)


# what the writes of a resolution read of a staged row (golden.py, the crosswalk's system)
WRITTEN_FIELDS = ("ref", "system", "name_norm", "uscc", "address", "phones", "owner_employee_id", "extra",
                  "updated_ms", "is_deleted")


def read_rows(conn: Connection, refs: list[str]) -> dict[str, dict]:
    """The :data:`WRITTEN_FIELDS` of the staged rows of ``refs`` (read back after a streamed
    staging), as :func:`_row` made them."""
    out: dict[str, dict] = {}
    cols = [customer_record.c[f] for f in WRITTEN_FIELDS]
    for i in range(0, len(refs), 500):
        for r in conn.execute(select(*cols).where(customer_record.c.ref.in_(refs[i:i + 500]))):
            out[r[0]] = dict(zip(WRITTEN_FIELDS, r, strict=True))
    return out


def _stored(row) -> dict:
    """A staged row as read back, in the shape :func:`_row` makes (without ``changed_at``)."""
    out = dict(row._mapping)
    del out["changed_at"]
    return out


def _stage(conn: Connection, cfg: IdentityConfig, source_for, employees, only: set[str] | None,
           reads: ContactReads, keys: dict | None = None, rows=None) -> dict[str, dict]:
    """ref -> staged row of every current customer record (``only``: of these refs). ``keys``
    (:func:`affected_refs`): when every ref in ``only`` comes from a changed customer record,
    only the current versions of those records are read - they are newer than any other record
    carrying the same id, so they win as in a read of the whole stream; a ref they do not make
    (its id moved, or its record is gone) is looked for in the whole stream. ``rows``: where the
    rows go (a :class:`_Sink` when streamed), else a new dict."""
    contacts = contact_index(reads, only)
    rows = {} if rows is None else rows
    # (a streamed staging keeps no row: one object per text would only keep every text to the end)
    shared: dict[str, str] | None = {} if isinstance(rows, dict) else None
    narrow = keys is not None and not keys.get("contacts")
    for src in cfg.customers:
        plan = _Plan(src, shared)
        prefix = plan.prefix
        if only is not None and not any(ref.startswith(prefix) for ref in only):
            continue
        source = source_for(src.system)
        if narrow:
            _take(plan, _current_of(conn, source, src.stream, keys.get((src.system, src.stream), set())),
                  only, employees, contacts, rows)
            wanted = {ref for ref in only if ref.startswith(prefix) and ref not in rows}
            if wanted:
                _take(plan, iter_current(conn, source, src.stream), wanted, employees, contacts, rows)
        else:
            _take(plan, iter_current(conn, source, src.stream), only, employees, contacts, rows)
    release_caches()
    return rows


def _current_of(conn: Connection, source: str, stream: str, keys: set[str]) -> list[dict]:
    """The current versions of the records of a stream with these record keys, newest first."""
    r, ordered, found = raw_record.c, sorted(keys), []
    for i in range(0, len(ordered), 500):
        found += conn.execute(select(r.id, r.data).where(
            r.source == source, r.stream == stream, r.is_current, r.deleted_at.is_(None),
            r.record_key.in_(ordered[i:i + 500]))).all()
    return [orjson.loads(data) for _, data in sorted(found, key=lambda x: -x[0])]


def _take(plan: _Plan, records, only: set[str] | None, employees, contacts, rows: dict[str, dict]) -> None:
    """Stage ``records`` (newest first) into ``rows``: those whose ref is in ``only`` (None: all)."""
    src, prefix = plan.src, plan.prefix
    for rec in records:
        if only is not None and f"{prefix}{text(plan.id(rec))}" not in only:
            continue  # (a record that is no object has no id: it is not in ``only``)
        try:
            row = _row(plan, rec, employees, contacts)
        except Exception as exc:
            log.warning("customer record of %s.%s not staged (%s: %s): id %r", src.system, src.stream,
                        type(exc).__name__, exc, text(plan.id(rec)) if isinstance(rec, dict) else None)
            continue
        if row and row["ref"] not in rows:  # newest landed version wins
            rows[row["ref"]] = row


def _key_of(text: str) -> NameKey:
    core, _, place = text.rpartition("|")
    return NameKey(core, place or None)


def _list(text: str | None) -> tuple:
    """A staged JSON list as a tuple (the shared empty tuple for ``[]``, most records' aliases
    and contacts)."""
    return tuple(orjson.loads(text)) if text and text != "[]" else ()


def rec_fields(row) -> tuple[str, tuple]:
    """(ref, the other fields of its engine record in :class:`Rec`'s order) of a staged row (a
    dict or a result row): what :func:`to_rec` makes a Rec of and columns.Columns stores."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    core = get("name_key")
    phones = _list(get("phones"))
    aliases = get("aliases")
    raw_code = get("uscc_raw")
    key = NameKey(core, get("name_place")) if core else None
    aliases = tuple(_key_of(a) for a in orjson.loads(aliases)) if aliases and aliases != "[]" else ()
    return get("ref"), (
        get("system"), key, aliases, get("uscc"), raw_code if raw_code and len(raw_code) >= 15 else None,
        get("link_code"), phones, get("address_key"), _list(get("contacts")), bool(get("is_deleted")), None,
        infer_cities(phones, get("address")),
    )


def to_rec(row) -> Rec:
    """The engine's view of a staged row (a dict or a result row). A full resolution keeps its
    records as columns instead (columns.Columns, one value table)."""
    ref, fields = rec_fields(row)
    return Rec(ref, *fields)
