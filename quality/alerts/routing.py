"""Decide which alerts are due and queue them in the outbox.

Escalation (``levels`` in alerts.yaml): a discrepancy whose severity a level lists and whose age
(now - ``first_seen``) is at least the level's ``after_days`` is due at that level. Each
(discrepancy, level, occurrence) is alerted once, remembered in ``alert_sent``; when several
levels are due at once only the highest is sent and the lower ones count as alerted. Routing:
``robot: region`` goes to the robot of the discrepancy's region (the default robot otherwise),
``robot: hq`` to the head-office robot; mentions are the owner and/or the owner's manager.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Connection, insert, select

from hub_core.schema import discrepancy
from hub_core.schema_alerts import alert_outbox, alert_sent
from hub_core.sql import among
from quality.alerts import outbox
from quality.alerts.config import AlertsConfig, LevelConfig, load_alerts_config
from quality.alerts.people import Directory, Person, load_directory
from quality.alerts.redact import redact
from quality.alerts.render import discrepancy_message, stale_message

log = logging.getLogger(__name__)
_CHUNK = 500
_LOOKUP_CHUNK = 5000  # discrepancy ids per look-up (a read: few round trips)


@dataclass
class QueueStats:
    """What one routing pass queued."""

    queued: int = 0
    by_level: Counter = field(default_factory=Counter)
    by_robot: Counter = field(default_factory=Counter)


def occurrence_of(first_seen: datetime) -> str:
    """The occurrence key of a discrepancy: its first-seen time, UTC, to the second."""
    return outbox.aware(first_seen).strftime("%Y-%m-%dT%H:%M:%SZ")


def _due_levels(cfg: AlertsConfig, severity: str, age: timedelta) -> list[LevelConfig]:
    return [lv for lv in cfg.levels if severity in lv.severities and age >= timedelta(days=lv.after_days)]


def _recipients(level: LevelConfig, owner: Person | None, directory: Directory) -> list[Person]:
    people = {"owner": owner, "manager": directory.manager(owner)}
    return [p for who in level.mention if (p := people[who]) is not None]


def _already_sent(conn: Connection, ids: list[str]) -> set[tuple[str, int, str]]:
    s = alert_sent.c
    sent: set[tuple[str, int, str]] = set()
    for i in range(0, len(ids), _LOOKUP_CHUNK):  # one parameter per look-up on PostgreSQL (hub_core.sql.among)
        sent.update(tuple(r) for r in conn.execute(
            select(s.discrepancy_id, s.level, s.occurrence).where(among(s.discrepancy_id, ids[i:i + _LOOKUP_CHUNK]))))
    return sent


def queue_due_alerts(conn: Connection, config: AlertsConfig | None = None, now: datetime | None = None,
                     directory: Directory | None = None) -> QueueStats:
    """Queue one outbox message for every open discrepancy that reached a level not yet alerted."""
    cfg = config or load_alerts_config()
    now = outbox.utc_now(now)
    severities = sorted({s for lv in cfg.levels for s in lv.severities})
    d = discrepancy.c
    open_rows = conn.execute(
        select(d.discrepancy_id, d.rule, d.severity, d.customer_id, d.customer_name, d.owner, d.region,
               d.amount_cents, d.first_seen)
        .where(d.status.not_in(cfg.skip_statuses), d.resolved_at.is_(None), d.severity.in_(severities))
        .order_by(d.first_seen, d.discrepancy_id)).all()
    stats = QueueStats()
    if not open_rows:
        return stats
    sent = _already_sent(conn, [r.discrepancy_id for r in open_rows])
    directory = directory or load_directory(conn)
    messages, marks = [], []
    for row in open_rows:
        r = SimpleNamespace(**row._mapping)
        r.first_seen = outbox.aware(r.first_seen)
        occurrence = occurrence_of(r.first_seen)
        levels = [lv for lv in _due_levels(cfg, r.severity, now - r.first_seen)
                  if (r.discrepancy_id, lv.level, occurrence) not in sent]
        if not levels:
            continue
        top = levels[-1]
        robot = cfg.hq_robot if top.robot == "hq" else cfg.region_robot(r.region)
        platform = cfg.robots[robot].platform
        people = _recipients(top, directory.owner(r.owner, r.region), directory)
        message = discrepancy_message(r, top.level, people, platform, cfg.labels, now,
                                      cfg.delivery.max_bytes.get(platform, 4096))
        messages.append(outbox.row_for(robot, "discrepancy", r.discrepancy_id, message, now, top.level, r.severity))
        marks.append([(r.discrepancy_id, lv.level, occurrence) for lv in levels])
        stats.by_level[top.level] += 1
        stats.by_robot[robot] += 1
    ids = outbox.add(conn, messages)
    sent_rows = [{"discrepancy_id": did, "level": level, "occurrence": occ, "outbox_id": oid, "queued_at": now}
                 for oid, keys in zip(ids, marks, strict=True) for did, level, occ in keys]
    for i in range(0, len(sent_rows), _CHUNK):
        conn.execute(insert(alert_sent), sent_rows[i:i + _CHUNK])
    stats.queued = len(ids)
    if ids:
        log.info("queued %d discrepancy alerts (levels %s, robots %s)", len(ids), dict(stats.by_level),
                 dict(stats.by_robot))
    return stats


def queue_source_stale_alert(conn: Connection, source: str, reason: str, age: timedelta | float | None,
                             *, config: AlertsConfig | None = None, now: datetime | None = None) -> int | None:
    """Queue an alert that ``source`` failed or went stale (the hub keeps serving its last good
    data). ``age`` is how old that data is (a timedelta or seconds). Goes to the head-office
    robot, at most once per source per ``source_stale.repeat_hours``. Returns the outbox id, or
    None when a recent alert for the source already exists."""
    cfg = config or load_alerts_config()
    now = outbox.utc_now(now)
    subject = f"source:{source}"
    o = alert_outbox.c
    since = now - timedelta(hours=cfg.source_stale.repeat_hours)
    recent = conn.execute(select(o.id).where(o.category == "source_stale", o.subject == subject,
                                             o.created_at > since).limit(1)).first()
    if recent is not None:
        return None
    if isinstance(age, int | float):
        age = timedelta(seconds=age)
    robot = cfg.hq_robot
    platform = cfg.robots[robot].platform
    message = stale_message(source, redact(reason, cfg.secret_values()), age, platform, cfg.labels,
                            cfg.delivery.max_bytes.get(platform, 4096))
    [oid] = outbox.add(conn, [outbox.row_for(robot, "source_stale", subject, message, now)])
    log.info("queued stale-source alert for %s (outbox %d)", source, oid)
    return oid
