"""Customer health score (0-100) and dynamic grade (S/A/B/C), per business-rules.md.

Both are pure functions of one customer's aggregated signals (a customer_360 row being built),
so the weights and thresholds in ``customer360.yaml`` fully define them.
"""

from __future__ import annotations

from datetime import datetime

from mappings.c360_config import Grade, Health


def _share(count: int | None, full_at: int) -> float:
    return min(1.0, (count or 0) / full_at) if full_at > 0 else 1.0


def _linear_down(value: float, full: float, zero: float) -> float:
    """1 at or below ``full``, 0 at or beyond ``zero``, linear between."""
    if value <= full:
        return 1.0
    if value >= zero:
        return 0.0
    return (zero - value) / (zero - full)


def health_score(row: dict, as_of: datetime, cfg: Health) -> int:
    """Weighted sum of five dimensions, each scored 0..1, rounded to a whole number of points."""
    w = cfg.weights
    last = row.get("last_contact_at")
    if last is None:
        recency = 0.0
    else:
        days = (as_of - last).total_seconds() / 86400
        recency = _linear_down(max(days, 0.0), 0.0, cfg.recency_zero_after_days)
    documents = _share(row.get("document_events_30d"), cfg.documents_full_at)
    decision = _share(row.get("decision_maker_interactions_30d"), cfg.decision_makers_full_at)
    competitor = 0.0 if (row.get("competitor_mentions_90d") or 0) > 0 else 1.0
    minutes = row.get("response_minutes")
    response = (cfg.response_no_data_score if minutes is None
                else _linear_down(minutes, cfg.response_full_minutes, cfg.response_zero_minutes))
    points = (w.recency * recency + w.documents * documents + w.decision_makers * decision
              + w.competitor * competitor + w.response_speed * response)
    total = w.recency + w.documents + w.decision_makers + w.competitor + w.response_speed
    return int(round(100 * points / total)) if total else 0


def grade(row: dict, cfg: Grade) -> str:
    """The first rule whose every ``min`` (>=) and ``max`` (<=) bound holds; missing values fail."""
    for rule in cfg.rules:
        ok = all(row.get(k) is not None and row[k] >= v for k, v in rule.min.items()) and all(
            row.get(k) is not None and row[k] <= v for k, v in rule.max.items())
        if ok:
            return rule.grade
    return cfg.default
