"""Run the consistency rules as of a time and keep their findings.

One transaction per run: judge the sources (stale-source protection), pair deals with orders,
evaluate every enabled rule whose sources are fresh, and merge the findings into ``discrepancy``.
A run as of a time *earlier* than the latest recorded run is a what-if: it computes and returns
the items but rolls everything back, so first-seen and resolved history are never rewritten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from hub_core import planner_stats
from hub_core.schema import deal_order_pair, discrepancy, reconcile_run
from mappings.parse import day_in, to_ms
from quality import scope
from quality.config import RulesConfig, load_rules
from quality.discrepancies import Persister, PersistStats
from quality.pairing import pair_deals
from quality.registry import RULES, rule
from quality.rules.base import RuleContext
from quality.staleness import check_sources

log = logging.getLogger(__name__)


@dataclass
class ReconcileResult:
    """What a run found (per rule), what it changed, which rules it held back and why."""

    as_of: datetime
    pairs: int
    found: dict[str, int]
    persisted: PersistStats
    what_if: bool = False
    held_back: dict[str, str] = field(default_factory=dict)
    stale_sources: dict[str, str] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    mode: str = "full"  # full | scoped (quality/scope.py)
    why_full: str = ""  # why the run was not scoped
    scope_customers: int | None = None  # a scoped run's customers


def _sources_of_systems() -> dict[str, str]:
    """The configured source name of each system (mappings' ``systems``), identity when unset."""
    systems = {s for spec in RULES for s in spec.systems}
    try:
        from mappings.config import load_mapping

        mapping = load_mapping()
        return {s: mapping.source_for(s) for s in systems}
    except Exception:
        return {s: s for s in systems}


def _tables_read(rule_ids: list[str]):
    """The tables the chosen rules, the pairing and the persisting of findings read, but the two
    the reconcile writes itself: ``deal_order_pair`` (rewritten) and ``discrepancy`` (every run
    moves ``last_seen`` on every open item, so by the change counters it would be analysed on
    every run: ~150 ms of the server's time at 10k customers). Both are judged by their size."""
    modules = {rule(r).find.__module__ for r in rule_ids}
    modules |= {"quality.rules.common", "quality.pairing", "quality.discrepancies"}
    own = {deal_order_pair.name, discrepancy.name}
    return [t for t in planner_stats.tables_of(modules) if t.name not in own]


def _as_utc(as_of: datetime | None) -> datetime:
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("the as-of time needs a timezone offset, e.g. 2026-11-20T09:00:00+08:00")
    return (as_of or datetime.now(UTC)).astimezone(UTC)  # stored as UTC: SQLite keeps no offset


def _context(as_of: datetime, cfg: RulesConfig) -> RuleContext:
    from zoneinfo import ZoneInfo

    offset = as_of.astimezone(ZoneInfo(cfg.timezone)).utcoffset()
    return RuleContext(as_of=as_of, as_of_ms=to_ms(as_of), as_of_day=day_in(as_of, cfg.timezone),
                       tz_offset_ms=int(offset.total_seconds() * 1000), config=cfg)


def _rows(conn, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _latest_run(conn) -> datetime | None:
    latest = conn.execute(select(func.max(reconcile_run.c.as_of))
                          .where(reconcile_run.c.finished_at.is_not(None))).scalar()
    return latest.replace(tzinfo=UTC) if latest is not None and latest.tzinfo is None else latest


def reconcile(engine: Engine, as_of: datetime | None = None, config: RulesConfig | None = None,
              rules: list[str] | None = None, *, keep_items: bool = False, full: bool = False) -> ReconcileResult:
    """Evaluate the enabled rules (or only ``rules``) as of ``as_of`` (default now) and persist
    the discrepancies, unless this is a what-if run (earlier than the latest run). Findings are
    merged one rule at a time, in batches; ``keep_items`` also returns every stored row in
    ``items`` (memory that grows with the findings: for a what-if's caller or a test).

    After incremental builds the rules are evaluated only for the customers whose findings can
    have changed since the previous reconcile (quality/scope.py), with the same stored result as a
    full run; ``full`` (and ``keep_items``) evaluates everything."""
    cfg = config or load_rules()
    as_of = _as_utc(as_of)
    chosen = [rule(r).id for r in rules] if rules else [s.id for s in RULES]
    enabled = [r for r in chosen if cfg.rule(r).enabled]
    ctx = _context(as_of, cfg)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            latest = _latest_run(conn)
            what_if = latest is not None and as_of < latest
            health = check_sources(conn, cfg.staleness)
            stale = {s: h.reason for s, h in health.items() if h.stale}
            held_back = {}
            source_of = _sources_of_systems()
            for rid in enabled:
                bad = [f"{source_of[sys]} stale ({stale[source_of[sys]]})" for sys in rule(rid).systems
                       if source_of[sys] in stale]
                if bad:
                    held_back[rid] = "; ".join(bad)
            running = [r for r in enabled if r not in held_back]
            planner_stats.refresh(conn, _tables_read(running))  # exact: ANALYZE changes no row
            planner_stats.refresh_rewritten(conn, discrepancy, _rows(conn, discrepancy))
            pairing = any(rule(r).uses_pairing for r in running)
            plan = scope.plan(conn, as_of, cfg, running, what_if=what_if, full=full or keep_items)
            customers = None
            if plan.mode == "scoped":
                table = scope.scope_table(conn)
                t0 = _context(plan.previous_as_of, cfg)
                customers = scope.fill(conn, table, plan, scope.windows(cfg, running, pairing, t0, ctx))
                ctx = replace(ctx, scope=table)
            pairs = 0
            if pairing:
                pairs = pair_deals(conn, as_of, ctx.as_of_day, cfg.pairing.order_window_days, ctx.scope)
                planner_stats.refresh_rewritten(conn, deal_order_pair, pairs)
            counts = {}
            persister = Persister(conn, as_of, keep_items=keep_items, scope=ctx.scope)
            for rid in running:
                counts[rid] = persister.rule(rid, rule(rid).find(conn, ctx, cfg.rule(rid)))
                if ctx.scope is not None:
                    counts[rid] = persister.settle_scoped(rid)
            if ctx.scope is not None:
                customers = conn.execute(select(func.count()).select_from(ctx.scope)).scalar_one()
                ctx.scope.drop(conn)
            stats, stored = persister.stats, persister.items
            # The run that grew (or shrank) ``discrepancy`` past autovacuum's measure analyses it:
            # the first run writes every item (0 -> 20k rows at 10k customers), and the next run
            # (the incremental one) found its statistics stale at its start instead (~0.15-0.35 s
            # of the server's time). Exact: ANALYZE changes no row.
            if not what_if:
                planner_stats.refresh_rewritten(conn, discrepancy, _rows(conn, discrepancy))
            if what_if:
                trans.rollback()
            else:
                conn.execute(insert(reconcile_run), {
                    "as_of": as_of, "started_at": datetime.now(UTC), "finished_at": datetime.now(UTC),
                    "open_count": sum(counts.values()), "new_count": stats.new + stats.reopened,
                    "resolved_count": stats.resolved, "build_id": plan.build_id, "rules_hash": plan.rules_hash,
                    "mode": plan.mode})
                scope.forget_recorded(conn, plan.build_id)
                trans.commit()
        except BaseException:
            trans.rollback()
            raise
    for rid, why in held_back.items():
        log.warning("rule %s held back: %s", rid, why)
    log.info("reconciled as of %s%s (%s%s): %s", as_of.isoformat(), " (what-if, nothing stored)" if what_if else "",
             plan.mode, f", {customers} customers" if customers is not None else f": {plan.why}", counts)
    return ReconcileResult(as_of, pairs, counts, stats, what_if, held_back, stale, stored, plan.mode, plan.why,
                           customers)


def summary_rows(result: ReconcileResult) -> list[dict]:
    """One row per rule for a person: found, new, reopened, persisting, resolved, held back (why)."""
    rows = []
    for spec in RULES:
        per = result.persisted.per_rule.get(spec.id, {})
        if spec.id not in result.found and spec.id not in result.held_back:
            continue
        rows.append({"rule": spec.id, "title": spec.title_zh, "found": result.found.get(spec.id, 0),
                     "new": per.get("new", 0), "reopened": per.get("reopened", 0),
                     "persisting": per.get("persisting", 0), "resolved": per.get("resolved", 0),
                     "held_back": result.held_back.get(spec.id, "")})
    return rows
