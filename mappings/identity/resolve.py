"""Resolve customers: stage records, match what changed, keep ids stable, write only differences.

One call per build (:func:`resolve_customers`). Only records that changed since the last build,
and the records they could interact with (same cluster before, or any shared block key: code,
link code, name core or its one-typo variants, phone, address), are re-matched: the engine's
decisions only ever look inside blocks, so that closure gives the same answer as matching
everything. The closure is walked through the persisted block index (blockindex.py), so an
incremental resolution reads the crosswalk and the blocks of the records it reaches only. An
unchanged rebuild writes nothing. A full resolution keeps no staged row in memory: staging streams
them to ``customer_record`` (records.stage_streaming) and the writes read them back a chunk of
customers at a time (writes.py); contacts are matched by partition (partition.py).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, exists, func, select

from hub_core.memory import give_back
from hub_core.schema import customer, customer_review, customer_xref, raw_record
from hub_core.schema_identity import (
    contact_xref,
    customer_record,
    identity_override,
)
from hub_core.sql import among
from mappings.identity import blockindex, staged_rows
from mappings.identity.blocks import release_typo_caches
from mappings.identity.config import IdentityConfig, load_identity
from mappings.identity.contact_reads import ContactReads
from mappings.identity.contacts import resolve_contacts
from mappings.identity.engine import paused_gc, resolve
from mappings.identity.records import read_rows, stage_customer_records, stage_streaming, to_rec
from mappings.identity.registry import Registry, assign, persist
from mappings.identity.store import count_rows, table_rows
from mappings.identity.writes import Stored, write_clusters, write_review

log = logging.getLogger(__name__)
ENTITY = "customer"


@dataclass
class ResolveStats:
    """What one resolution did."""

    records: int
    changed: int
    removed: int
    rematched: int
    customers: int
    issued: int
    merged: int
    review: int
    rows_written: int
    contacts: int = 0
    contacts_restaged: bool = True  # False: nothing contacts are staged from changed, they were left alone
    moved_refs: set[str] = field(default_factory=set, repr=False)  # records whose customer id changed
    # customer ids whose ``customer`` row was written (issued, retired, renamed, another owner):
    # what customer_360 must recompute besides the customers of re-linked and re-mapped rows
    customers_touched: set[str] = field(default_factory=set, repr=False)
    # what contacts linked by company name depend on (mappings/contact_company.py): records whose
    # staged row or crosswalk row changed (changed, removed, customer moved), and the normalised
    # names and name keys those records carried before or carry now
    records_touched: set[str] = field(default_factory=set, repr=False)
    name_norms: set[str] = field(default_factory=set, repr=False)
    name_keys: set[str] = field(default_factory=set, repr=False)


def active_overrides(conn: Connection, entity: str = ENTITY) -> dict[str, tuple[str, str | None]]:
    """ref -> (action, target id) of the newest active override per record."""
    t = identity_override
    out = {}
    for r in conn.execute(select(t.c.ref, t.c.action, t.c.target_id)
                          .where(t.c.entity == entity, t.c.active).order_by(t.c.id)):
        out[r.ref] = (r.action, r.target_id)
    return out


def resolve_customers(conn: Connection, cfg, employees, as_of: datetime | None = None, *,
                      identity: IdentityConfig | None = None, full: bool = False,
                      since: int | None = None) -> ResolveStats:
    """Stage customer records from raw, match them and write crosswalk, customers, golden fields,
    review queue, id registry and trail; then resolve their contacts the same way.
    ``cfg`` is the MappingConfig (``source_for``); ``employees`` resolves owner ids
    (``employees.crm(..)`` / ``.u8(..)``, as identity.yaml names them). ``since``: the raw
    watermark of the last build, when nothing but raw records landed after it changed (same
    configuration, employees and overrides): only the customer records they touch are staged."""
    idcfg = identity or load_identity()
    now = as_of or datetime.now(UTC)
    reads = ContactReads(conn, idcfg, cfg.source_for)  # contact records, read once for both stagings
    with paused_gc():  # staging and matching build millions of small objects (see paused_gc)
        stats, moved = _resolve_customers(conn, cfg, employees, now, idcfg, full, since, reads)
    if not full and since is not None and not moved and not _contacts_landed(conn, idcfg, cfg.source_for, since):
        stats.contacts, stats.contacts_restaged = _contact_count(conn), False
        log.info("customers resolved: %s", stats)
        return stats
    give_back()  # (the customers' structures, freed: contacts start from what is live, see hub_core.memory)
    people = resolve_contacts(conn, idcfg, cfg.source_for, now, reads)
    stats.contacts, stats.rows_written = people.contacts, stats.rows_written + people.rows_written
    log.info("customers resolved: %s", stats)
    return stats


def _contacts_landed(conn: Connection, idcfg: IdentityConfig, source_for, since: int) -> bool:
    """Whether any contact record landed after raw id ``since``."""
    r = raw_record.c
    return any(conn.execute(select(r.id).where(r.source == source_for(src.system), r.stream == src.stream,
                                               r.id > since).limit(1)).first() for src in idcfg.contacts)


def _contact_count(conn: Connection) -> int:
    return conn.execute(select(func.count(contact_xref.c.contact_id.distinct()))).scalar_one()


def _xref_rows(conn: Connection, refs: set[str]) -> dict[str, dict]:
    """Crosswalk rows of ``refs``, by ref."""
    ordered, out = sorted(refs), {}
    for i in range(0, len(ordered), 1000):
        for r in conn.execute(select(customer_xref).where(among(customer_xref.c.ref, ordered[i:i + 1000]))):
            out[r.ref] = dict(r._mapping)
    return out


def _seeds(conn: Connection, staged, reg: Registry, overrides: dict) -> tuple[dict[str, dict], set[str], int]:
    """(crosswalk rows read, seeds, records in all) of an incremental resolution, by look-ups:
    records staged afresh or gone, records staged but not in the crosswalk and the reverse (two
    anti-joins), and records whose override was added, changed or released since the last build."""
    x, c = customer_xref.c, customer_record.c
    unlinked = set(conn.execute(select(c.ref).where(~exists().where(x.ref == c.ref))).scalars())
    unstaged = set(conn.execute(select(x.ref).where(~exists().where(c.ref == x.ref))).scalars())
    xref = {r.ref: dict(r._mapping) for r in conn.execute(select(customer_xref).where(x.decided_by == "override"))}
    xref |= _xref_rows(conn, set(overrides) - xref.keys())
    seeds = set(staged.changed) | set(staged.removed) | unlinked | unstaged
    for ref, row in xref.items():  # an override added, changed or released since the last build
        ov = overrides.get(ref)
        if (row.get("decided_by") == "override") != (ov is not None) or (
                ov and ov[0] == "link" and reg.current(ov[1]) != row["customer_id"]):
            seeds.add(ref)
    seeds |= {ref for ref in overrides if ref in staged.rows and ref not in xref}
    return xref, seeds, len(staged.rows) + len(unstaged | set(staged.removed))


def _resolve_customers(conn: Connection, cfg, employees, now: datetime, idcfg: IdentityConfig,
                       full: bool, since: int | None, reads: ContactReads) -> tuple[ResolveStats, bool]:
    """Customers resolved, and whether anything contact staging reads of them moved (a record's
    name fields, or the customer a record belongs to)."""
    if full:  # every record is staged: streamed to the table, only engine records kept
        # The contact records are not kept for contact staging: held through staging, matching
        # and writing they were ~100 MB at 100k customers; contact staging reads them again.
        reads.keep = False
        staged = stage_streaming(conn, idcfg, cfg.source_for, employees, now, reads)
        give_back()  # staging's look-up dicts and caches, freed (hub_core.memory)
        n_changed = staged.n_changed  # (only counted: every ref, on a first build)
    else:
        staged = stage_customer_records(conn, idcfg, cfg.source_for, employees, now, since, reads)
        n_changed = len(staged.changed)
    written = staged.written
    reg = Registry(conn, ENTITY)
    overrides = active_overrides(conn)
    if full:
        x = customer_xref.c
        prev = dict(conn.execute(select(x.ref, x.customer_id)).all())
        # the engine records (columns.Columns) in ref order, not a dict by ref
        ordered = staged.recs.by_ref()
        staged.recs = recs = None
        blockindex.rebuild(conn, ordered)
        release_typo_caches()  # the index's typo blocks (the engine makes its variants afresh)
        xref, big, unknown = None, None, set(prev.values()) - set(reg.rows)
        scope = set(ordered.refs) | set(staged.removed) | set(prev)
        total = len(scope)
    else:  # the index moves with the records staged afresh; the seeds are looked up, not scanned for
        if blockindex.is_empty(conn):  # staged before the index existed
            blockindex.rebuild(conn, {ref: to_rec(row) for ref, row in staged.rows.items()})
        blockindex.restage(conn, {ref: to_rec(staged.rows[ref]) for ref in staged.changed}, set(staged.removed))
        xref, seeds, total = _seeds(conn, staged, reg, overrides)
        if not seeds:
            log.info("customers unchanged: nothing to write")
            return ResolveStats(len(staged.rows), 0, 0, 0, count_rows(conn, customer), 0, 0,
                                count_rows(conn, customer_review), written), staged.names_moved
        if len(seeds) * 2 >= total:  # most records changed: the closure would be (nearly) everything
            xref = table_rows(conn, customer_xref, "ref")
            prev = {ref: row["customer_id"] for ref, row in xref.items()}
            recs = {ref: to_rec(row) for ref, row in staged.rows.items()}
            scope, big, unknown = set(staged.rows) | set(staged.removed) | set(xref), None, set(prev.values()) - set(reg.rows)
            total = len(scope)
        else:
            walk = blockindex.Walk(conn, staged.rows, staged.removed, idcfg.matching.max_block)
            scope = walk.closure(seeds)
            # a linked record brings its target customer's records along (the target is rebuilt with it)
            while True:
                targets = {reg.current(overrides[r][1]) for r in scope if r in overrides and overrides[r][0] == "link"}
                extra = set(walk.customers_refs(targets)) - scope
                if not extra:
                    break
                scope |= walk.closure(extra)
            big = walk.big()
            prev = {ref: cid for ref, cid in walk.customers_of(scope).items() if cid is not None}
            xref |= _xref_rows(conn, scope - xref.keys())
            staged_rows.load(staged.rows, scope)  # (what the walk did not read: the writes read them)
            recs = {ref: walk.recs.get(ref) or to_rec(staged.rows[ref]) for ref in scope if ref in staged.rows}
            unknown = set(conn.execute(select(customer_xref.c.customer_id).distinct()).scalars()) - set(reg.rows)
    blockindex.drop(conn, set(staged.removed))
    if full:  # every staged record, in ref order
        pinned = frozenset(ref for ref in ordered.refs if ref in overrides)
    else:
        ordered = [recs[ref] for ref in sorted(ref for ref in scope if ref in recs)]
        pinned = frozenset(r.ref for r in ordered if r.ref in overrides)
    result = resolve(ordered, idcfg.matching, pinned, big)
    n_live = len(ordered)
    del recs, ordered  # the engine's records: not read again
    give_back()  # the engine's blocks and groups, freed
    # a split record stays the singleton the engine left it; a linked one joins its target below
    linked = {ref for ref in pinned if overrides[ref][0] == "link" and overrides[ref][1]}
    clusters = [list(c) for c in result.clusters if not (len(c) == 1 and c[0] in linked)]
    reasons = {ref: j.rule for ref, j in result.joins.items()}
    forced: dict[int, str] = {}
    pending_links: dict[str, list[str]] = defaultdict(list)
    for ref in sorted(pinned):
        reasons[ref] = f"override {overrides[ref][0]}"
        if ref in linked:
            pending_links[reg.current(overrides[ref][1])].append(ref)
    scoped_prev = {ref: prev[ref] for ref in scope if ref in prev}
    del prev
    # A link override pins its target id: the cluster holding the target's records keeps it.
    seq = reg.next_seq
    assigned_pre = assign(reg, clusters, scoped_prev, {}, reasons).ids if pending_links else []
    reg.next_seq = seq
    for target, refs in pending_links.items():
        if target in assigned_pre:
            forced[assigned_pre.index(target)] = target
            clusters[assigned_pre.index(target)] += refs
            continue
        # the target's records merged elsewhere in this run: follow most of them
        holders = Counter(n for n, members in enumerate(clusters) for r in members if scoped_prev.get(r) == target)
        if holders:
            clusters[holders.most_common(1)[0][0]] += refs
        else:  # nothing carries the target any more: it lives on with the linked records
            clusters.append(list(refs))
            forced[len(clusters) - 1] = target
    out = assign(reg, clusters, scoped_prev, forced, reasons)
    del reasons
    written += persist(reg, out, unknown, now)
    review_rows, n = write_review(conn, result, clusters, out.ids, scope)
    written += n
    rows_of = (lambda refs: read_rows(conn, refs)) if full else (lambda refs: {r: staged.rows[r] for r in refs})
    done = write_clusters(conn, clusters, out.ids, result, overrides, review_rows, rows_of, Stored(conn, xref),
                          scope, scoped_prev, idcfg.survivorship)
    written += done.rows
    records = len(staged.rows) if not full else n_live
    stats = ResolveStats(records, n_changed, len(staged.removed), n_live,
                         count_rows(conn, customer), len(out.issued), len(out.merged), count_rows(conn, customer_review),
                         written, moved_refs=done.moved_refs, customers_touched=done.customers_touched)
    if not full:
        stats.records_touched = set(staged.changed) | set(staged.removed) | done.moved_refs
        moved_rows = [r for r in map(staged.rows.get, done.moved_refs) if r is not None]
        stats.name_norms = staged.name_norms | ({r["name_norm"] for r in moved_rows} - {None})
        stats.name_keys = staged.name_keys | ({r["name_key"] for r in moved_rows} - {None})
    return stats, staged.names_moved or bool(done.moved_refs)
