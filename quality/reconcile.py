"""Run the consistency rules as of a time and keep their findings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, update

from hub_core.schema import reconcile_run
from mappings.parse import day_in, to_ms
from quality.config import RulesConfig, load_rules
from quality.discrepancies import PersistStats, persist
from quality.pairing import pair_deals
from quality.rules.base import RuleContext
from quality.rules.r1_won_without_order import r1_won_without_order

log = logging.getLogger(__name__)

RULES = {"R1": r1_won_without_order}


@dataclass
class ReconcileResult:
    as_of: datetime
    pairs: int
    found: dict[str, int]
    persisted: PersistStats


def reconcile(engine: Engine, as_of: datetime | None = None, config: RulesConfig | None = None) -> ReconcileResult:
    """Pair deals with orders, evaluate every enabled rule, and persist the discrepancies."""
    cfg = config or load_rules()
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("the as-of time needs a timezone offset, e.g. 2026-11-20T09:00:00+08:00")
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)  # stored as UTC: SQLite keeps no offset
    ctx = RuleContext(as_of=as_of, as_of_ms=to_ms(as_of), as_of_day=day_in(as_of, cfg.timezone), config=cfg)
    enabled = [rule for rule in RULES if getattr(cfg, rule).enabled]
    with engine.begin() as conn:
        run_id = conn.execute(insert(reconcile_run).returning(reconcile_run.c.id),
                              {"as_of": as_of, "started_at": datetime.now(UTC)}).scalar_one()
        pairs = pair_deals(conn, ctx.as_of_ms, ctx.as_of_day, cfg.pairing.order_window_days)
        found = []
        counts = {}
        for rule in enabled:
            items = RULES[rule](conn, ctx)
            counts[rule] = len(items)
            found.extend(items)
        stats = persist(conn, found, enabled, as_of)
        conn.execute(update(reconcile_run).where(reconcile_run.c.id == run_id).values(
            finished_at=datetime.now(UTC), open_count=len(found), new_count=stats.new,
            resolved_count=stats.resolved))
    log.info("reconciled as of %s: %s", as_of.isoformat(), counts)
    return ReconcileResult(as_of, pairs, counts, stats)
