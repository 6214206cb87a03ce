"""New red discrepancies for the alert sensor, and a small adapter that hands them on.

The sensor (orchestration/schedules.py) keeps in its cursor the ids of the red items it already
saw open, so each new red item (new, or escalated to red) is logged once. Alerts are queued in
the outbox of ``quality.alerts``, routed per ``quality/alerts.yaml``; when that file is missing or
invalid (or a robot's credential variable is unset) one error line says so, never a silent no-op.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class RedItem:
    """One open red discrepancy: enough to say what it is without reading the warehouse."""

    discrepancy_id: str
    rule: str
    customer_name: str | None
    owner: str | None
    amount_cents: int


def open_red_items(engine) -> list[RedItem]:
    """Every open (not resolved) red discrepancy, oldest first."""
    from sqlalchemy import select

    from hub_core.schema import discrepancy

    d = discrepancy.c
    with engine.connect() as conn:
        rows = conn.execute(select(d.discrepancy_id, d.rule, d.customer_name, d.owner, d.amount_cents)
                            .where(d.severity == "red", d.status != "resolved", d.resolved_at.is_(None))
                            .order_by(d.first_seen, d.discrepancy_id)).all()
    return [RedItem(*r) for r in rows]


def new_red_items(engine, cursor: str | None) -> tuple[list[RedItem], str]:
    """(red items not in the cursor, the next cursor). The cursor is the JSON list of the ids
    open and red at the last evaluation: an item resolved and later red again alerts again."""
    seen = set(json.loads(cursor)) if cursor else set()
    current = open_red_items(engine)
    fresh = [item for item in current if item.discrepancy_id not in seen]
    return fresh, json.dumps(sorted(i.discrepancy_id for i in current), ensure_ascii=False)


def _log_items(items: list[RedItem]) -> None:
    for item in items:
        log.warning("new red discrepancy %s (%s) %s, owner %s, %.2f CNY", item.discrepancy_id, item.rule,
                    item.customer_name or "-", item.owner or "-", item.amount_cents / 100)


def alert_red_items(engine, items: list[RedItem]) -> str:
    """Hand new red items on, and say how (for the sensor's log).

    Each new item is logged (one line, the audit trail). Then ``quality.alerts`` queues every
    due alert into the outbox, routed per ``alerts.yaml`` (it remembers what it queued, so each
    level of each item is queued once; this also picks up escalations of older items). A missing
    or invalid alerts file, or a robot whose credential variable is unset, is one clear logged
    line: the items stay in the warehouse and are queued (or posted) once it is fixed."""
    _log_items(items)
    try:
        from quality.alerts.config import AlertConfigError, load_alerts_config, resolve
        from quality.alerts.routing import queue_due_alerts
    except ImportError:
        log.error("red alerts not queued: quality.alerts is not installed (%d new red item(s) only logged)",
                  len(items))
        return f"logged {len(items)} (quality.alerts not installed)"
    try:
        cfg = load_alerts_config()
    except AlertConfigError as exc:
        log.error("red alerts not queued: %s (%d new red item(s) only logged)", exc, len(items))
        return f"logged {len(items)} (alerts not configured)"
    with engine.begin() as conn:
        stats = queue_due_alerts(conn, cfg)
    for robot in sorted(stats.by_robot):
        try:
            resolve(robot, cfg.robots[robot])
        except AlertConfigError as exc:  # names the variable, never a value
            log.error("%d alert(s) queued for robot %s cannot be posted: %s", stats.by_robot[robot], robot, exc)
    return f"queued {stats.queued} alert(s) for {len(items)} new red item(s)"
