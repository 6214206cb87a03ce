"""New red discrepancies for the alert sensor, and a small adapter that hands them on.

The sensor (orchestration/schedules.py) keeps in its cursor the ids of the red items it already
saw open, so each new red item (new, or escalated to red) is alerted once. Alerts go through the
owner-routed outbox of ``quality.alerts`` when that package is installed; without it they are
logged, so nothing is silently dropped.
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


def alert_red_items(engine, items: list[RedItem]) -> str:
    """Hand new red items on: queue them through ``quality.alerts`` (which routes each open
    discrepancy to its owner's robot and never queues the same level twice) when installed,
    else log one line per item. Returns how they were handed on (for the sensor's log)."""
    if not items:
        return "nothing new"
    try:
        from quality.alerts.routing import queue_due_alerts
    except ImportError:
        for item in items:
            log.warning("new red discrepancy %s (%s) %s, owner %s, %.2f CNY", item.discrepancy_id, item.rule,
                        item.customer_name or "-", item.owner or "-", item.amount_cents / 100)
        return f"logged {len(items)} (quality.alerts not installed)"
    with engine.begin() as conn:
        stats = queue_due_alerts(conn)
    return f"queued {stats.queued} alert(s) for {len(items)} new red item(s)"
