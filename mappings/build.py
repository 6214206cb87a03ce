"""Build the unified model and customer_360 from what connectors landed, in one transaction
(readers never see half a build).

Steps: map employee accounts and link them into employees; resolve customers (staging of
customer records, matching, crosswalk: one separate call, ``resolve_customers``); map every other
stream through the declarative mappings; link rows to customers, employees and contacts; derive
the ``stg_*`` tables the reconciliation rules read; rebuild ``customer_360`` as of ``as_of``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from hub_core import planner_stats
from hub_core.schema import (
    customer_xref,
    metadata,
    raw_record,
    stg_employee,
)
from hub_core.schema_identity import identity_override
from hub_core.schema_publish import customer_360_candidate
from hub_core.schema_unified import build_run, opportunity, sales_order
from mappings.affected import Affected, record_customers
from mappings.c360_config import C360Config, load_c360
from mappings.completeness import (
    CompletenessLog,
    rebuild_completeness,
    update_completeness,
)
from mappings.config import MappingConfig, load_mapping
from mappings.customer360 import build_customer_360
from mappings.declarative.engine import Mapper
from mappings.declarative.spec import DeclarativeConfig, load_streams
from mappings.employees import link_employees, load_employees, load_overrides
from mappings.identity import resolve_customers
from mappings.identity.config import load_identity
from mappings.links import (
    Scope,
    flag_signals,
    link_contacts,
    link_customers,
    rate_notches,
    resolve_parties,
)
from mappings.staging import (
    stage_opportunities,
    stage_sales_orders,
)

log = logging.getLogger(__name__)

# Tables a build rebuilds from scratch (quarantine and findings describe the current build only).
_REBUILT = ("customer_360_candidate", "data_completeness", "data_quality_finding", "mapping_quarantine", "employee",
            "employee_account",
            "account_profile", "contact", "opportunity", "contract", "sales_order", "sales_order_line",
            "dispatch", "dispatch_line", "invoice", "invoice_line", "receivable", "receipt", "credit_rating",
            "interaction", "product", "stock")


@dataclass
class BuildStats:
    """What a build produced; ``rows`` counts unified rows per entity table."""

    employees: int
    customer_records: int
    customers: int
    review: int
    opportunities: int
    orders: int
    build_id: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    customer_360: int = 0
    mode: str = "full"  # full | incremental | unchanged
    # customers recorded in ``build_customer`` for the next reconcile (quality/scope.py); -1: none
    # recorded (a full build: the next reconcile is full)
    customers_recorded: int = -1

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def findings_total(self) -> int:
        return sum(self.findings.values())


_PACKAGE_DIR = json.dumps(str(Path(__file__).resolve().parent), ensure_ascii=False)[1:-1]


def _config_hash(*parts) -> str:
    """Identifies the configuration a build ran with: a changed mapping means a full rebuild.
    The files' contents are among ``parts`` (parsed); where this package is installed is not:
    the same release unpacked in another folder must not rebuild every customer."""
    text = json.dumps([p.model_dump(mode="json") for p in parts], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.replace(_PACKAGE_DIR, "<mappings>").encode()).hexdigest()


def _plan(conn: Connection, incremental: bool, config_hash: str, decl: DeclarativeConfig, sources: dict):
    """(mode, last build, raw watermark): ``full`` the first time, after a configuration change,
    when employees changed, when IT recorded an identity override (link / split / release) since
    the last build, or when asked; ``unchanged`` when nothing was landed since the last build;
    else ``incremental``."""
    r = raw_record.c
    watermark = conn.execute(select(func.max(r.id))).scalar() or 0
    last = conn.execute(select(build_run).where(build_run.c.status == "succeeded")
                        .order_by(build_run.c.id.desc()).limit(1)).first()
    if not incremental or last is None or last.config_hash != config_hash or last.raw_watermark is None:
        return "full", last, watermark
    # A soft delete (a key gone from a full-table pass) changes no raw id: rebuild in full.
    deleted_since = conn.execute(select(func.count()).select_from(raw_record).where(
        r.deleted_at.is_not(None), r.deleted_at > last.started_at)).scalar()
    if deleted_since:
        return "full", last, watermark
    # An IT override lands no raw record, but must take effect on the next build: re-resolve all.
    overridden_since = conn.execute(select(func.count()).select_from(identity_override).where(
        identity_override.c.created_at > last.started_at)).scalar()
    if overridden_since:
        return "full", last, watermark
    if watermark == last.raw_watermark:
        return "unchanged", last, watermark
    people = [(sources.get(s.system, s.system), s.stream) for s in decl.streams if s.entity == "employee_account"]
    changed_people = people and conn.execute(select(func.count()).select_from(raw_record).where(
        r.id > last.raw_watermark, or_(*[and_(r.source == src, r.stream == st) for src, st in people]))).scalar()
    return ("full" if changed_people else "incremental"), last, watermark


def build_customer360(engine: Engine, mapping: MappingConfig | None = None, as_of: datetime | None = None,
                      streams: DeclarativeConfig | None = None, c360: C360Config | None = None,
                      incremental: bool = True) -> BuildStats:
    """Rebuild the unified model and customer_360 (as of ``as_of``, default now) in one transaction.

    Incremental by default: only raw records landed since the last build are mapped (their earlier
    rows, quarantine entries and findings replaced); customer_360 is recomputed for the customers
    those changes reach (mappings/affected.py) and, when ``as_of`` moved, for those whose records
    the move takes into or out of a window (mappings/c360_asof.py); the completeness index moves
    by the changed rows. When nothing was landed, the unified tables are left untouched and
    customer_360 is refreshed only for a different ``as_of``."""
    cfg = mapping or load_mapping()
    decl = streams or load_streams(cfg.path("streams"))
    c360 = c360 or load_c360(cfg.path("customer360"))
    overrides = load_overrides(cfg.path("employee_overrides"))
    now = datetime.now(UTC)
    as_of = (as_of or now)
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a timezone")
    as_of = as_of.astimezone(UTC)
    sources = {system: cfg.source_for(system) for system in ("crm", "u8", "finance", "wecom")} | cfg.systems
    identity = load_identity()  # part of the hash: a changed identity.yaml restages every customer record
    config_hash = _config_hash(cfg, decl, c360, overrides, identity)
    with engine.begin() as conn:
        mode, last, watermark = _plan(conn, incremental, config_hash, decl, sources)
        if mode != "full":  # statistics the last full build left, unless the tables moved since
            _refresh_statistics(conn)
        build_id = conn.execute(insert(build_run).values(
            started_at=now, as_of=as_of, status="running", mode=mode, raw_watermark=watermark,
            config_hash=config_hash).returning(build_run.c.id)).scalar_one()
        if mode == "unchanged":
            stats = _unchanged(conn, last, build_id, as_of, c360, cfg, sources, decl)
        else:
            stats = _map_and_link(conn, mode, last, build_id, as_of, cfg, decl, c360, overrides, sources, identity)
        stats.mode = mode
        conn.execute(update(build_run).where(build_run.c.id == build_id).values(
            finished_at=datetime.now(UTC), status="succeeded", stats=json.dumps(asdict(stats))))
        if mode == "full":
            planner_stats.report_at_commit(conn)
    if mode == "full":  # every table rewritten: the next builds and the reconcile plan with statistics
        # After the commit: the rows a transaction wrote reach the change counters when it commits,
        # so an ANALYZE inside it left them all counted as changed since, and the next build (and
        # the reconcile) analysed every table again (~2.3 s of an unchanged build at 10k customers).
        with engine.begin() as conn:
            planner_stats.refresh(conn, _tables_read(), force=True)
    log.info("customer-360 built (%s): %s customers, %s rows mapped, %s quarantined, %s findings", mode,
             stats.customers, sum(stats.rows.values()), stats.quarantined_total, stats.findings_total)
    return stats


def _tables_read():
    """The tables the build's modules import, which its statements read: the unified model, the
    identity tables, the block index, raw records. The build gives them planner statistics
    (hub_core/planner_stats.py): without any, its incremental look-ups of a thousand keys were
    planned as scans of the whole table."""
    imported = planner_stats.tables_of([m for name, m in list(sys.modules.items())
                                        if name == "mappings" or name.startswith("mappings.")])
    mapped = [metadata.tables[name] for name in _REBUILT]  # the declarative mapper names them
    by_name = {t.name: t for t in imported + mapped if "TEMPORARY" not in t._prefixes}  # (temporary: the session's own)
    return [by_name[name] for name in sorted(by_name)]


def _refresh_statistics(conn) -> list[str]:
    """Before an incremental build: ANALYZE the tables it reads whose statistics went stale.
    ``customer_360_candidate`` is judged by its size instead: every build sets ``build_id`` (and,
    as of a new instant, ``as_of``) on all its kept rows, so by the change counters it was analysed
    at the start of every incremental build (~0.27 s of the server's time at 10k customers), though
    its rows' values barely move and its look-ups are by key. Returns the tables analysed."""
    candidate = customer_360_candidate.name
    analysed = planner_stats.refresh(conn, [t for t in _tables_read() if t.name != candidate])
    rows = conn.execute(select(func.count()).select_from(customer_360_candidate)).scalar_one()
    return analysed + planner_stats.refresh_rewritten(conn, customer_360_candidate, rows)


def _ranks(decl: DeclarativeConfig) -> dict[str, int]:
    return {k: int(v) for k, v in decl.codes.get("credit_rating_rank", {}).items()}


def _unchanged(conn, last, build_id, as_of, c360, cfg, sources, decl) -> BuildStats:
    """Nothing landed since the last build: touch no unified table; refresh customer_360 only
    when asked for another as-of time, and then only the rows time changes (mappings/c360_asof.py)."""
    previous = json.loads(last.stats or "{}")
    stats = BuildStats(**{k: previous.get(k, 0) for k in ("employees", "customer_records", "customers", "review",
                                                         "opportunities", "orders")}, build_id=build_id)
    stats.customers_recorded = 0  # nothing landed: no customer changed (the reconcile's as-of windows do the rest)
    last_as_of = last.as_of if last.as_of.tzinfo else last.as_of.replace(tzinfo=UTC)
    if last_as_of != as_of:
        stats.customer_360 = build_customer_360(conn, c360, as_of, cfg.timezone, sources, _ranks(decl), build_id,
                                                set())
    return stats


def _map_and_link(conn, mode, last, build_id, as_of, cfg, decl, c360, overrides, sources, identity) -> BuildStats:
    """Map (everything, or what was landed since the last build), resolve customers, link, and
    rebuild the derived tables."""
    mapper = Mapper(conn, decl, sources, cfg.timezone, build_id)
    if mode == "full":
        for name in _REBUILT:
            conn.execute(delete(metadata.tables[name]))
        conn.execute(delete(stg_employee))
        for spec in decl.streams:
            if spec.entity == "employee_account":
                mapper.run(spec)
        mapper.flush()
        emp = link_employees(conn, overrides)
    else:
        emp = load_employees(conn)
        mapper.touched = defaultdict(set)
    mapper.employees = emp.by_account

    # the completeness index of an incremental build moves by the rows it changes
    clog = CompletenessLog(conn) if mode == "incremental" else None
    # --- customer resolution (entity resolution owns this step) ---
    ident = resolve_customers(conn, cfg, emp, as_of, full=mode == "full", identity=identity,
                              since=last.raw_watermark if mode == "incremental" else None)
    n_records, n_customers, n_review = ident.records, ident.customers, ident.review
    # an incremental build recomputes customer_360 only for the customers its changes reach
    affected = Affected(conn, clog) if mode == "incremental" else None
    if affected:
        affected.customers |= ident.customers_touched
        # the customers of the records restaged (a name or owner the reconcile's R6 compares can
        # change without changing the customer's golden row)
        affected.where(customer_xref, customer_xref.c.ref, ident.records_touched)

    for spec in decl.streams:
        if spec.entity == "employee_account":
            continue
        if mode == "full":
            mapper.run(spec)
            continue
        refs = mapper.changed_refs(spec, last.raw_watermark)
        if refs:
            if affected:
                affected.before_forget(spec, refs)
            mapper.forget(spec, refs)
            mapper.run(spec, since_id=None if spec.versions == "all" else last.raw_watermark,
                       only_refs=refs if spec.versions == "all" else None)
    mapper.flush()
    # an incremental build links and stages only rows that can differ from the last build's
    scope = None if mode == "full" else Scope(mapper.touched, mapper.forgotten, ident.moved_refs,
                                              records=ident.records_touched, name_norms=ident.name_norms,
                                              name_keys=ident.name_keys)
    if affected:
        affected.relinking(scope)
    link_customers(conn, scope)
    # ref -> (customer before, after) of the contacts whose customer changed (followed only by an
    # incremental build: in a full one every contact moves)
    moved = link_contacts(conn, track=scope is not None, scope=scope)
    if scope:
        scope.contacts_moved = set(moved)
    if affected:
        affected.contacts(moved)
        affected.messages(scope.messages(conn), before=True)
    resolve_parties(conn, c360, scope)
    flag_signals(conn, c360, scope)
    rate_notches(conn, decl.codes.get("credit_rating_rank", {}))
    if affected:
        affected.messages(scope.messages(conn), before=False)
        affected.after(scope)
    n_opps = stage_opportunities(conn, scope.refs(conn, opportunity) if scope else None)
    n_orders = stage_sales_orders(conn, scope.refs(conn, sales_order) if scope else None)
    n_360 = build_customer_360(conn, c360, as_of, cfg.timezone, sources, _ranks(decl), build_id,
                               affected.customers if affected else None)
    if clog:
        update_completeness(conn, clog, c360.completeness_threshold, c360.systems, build_id)
    else:
        rebuild_completeness(conn, c360.completeness_threshold, c360.systems, build_id)
    st = mapper.stats
    stats = BuildStats(len(emp.rows), n_records, n_customers, n_review, n_opps, n_orders, build_id,
                       dict(st.rows), dict(st.quarantined), dict(st.findings), n_360)
    if affected:
        stats.customers_recorded = record_customers(conn, build_id, affected.customers)
    return stats
