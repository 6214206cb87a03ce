"""Stale-source protection (business-rules.md, "Source outage").

A source is **stale** when its last finished sync failed (or was interrupted), when that sync's
landing *withheld deletions* (a complete full-table pass returned nothing, or left out more than
``staleness.max_drop`` of the live records: connectors/landing_deletes.py keeps them live, so the
unified model keeps serving the last good data), or when the rows it currently has in the
warehouse (current, not soft-deleted raw records, per stream) fell by more than
``staleness.max_drop`` against the counts of its last good check. Counting *current* rows (not
what one sync landed) means an incremental sync that legitimately lands little never trips it.

Rules depending on a stale source are held back by the reconcile run (their open items stay as
they were); one alert per newly stale source is queued through :func:`queue_stale_alert`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from hub_core.schema import raw_record, sync_run
from hub_core.schema_rules import source_health
from quality.config import StalenessConfig

log = logging.getLogger(__name__)


@dataclass
class SourceHealth:
    """One source's verdict: stale or not, why, since when, when last good."""

    source: str
    stale: bool
    reason: str | None
    since: datetime | None
    last_good_at: datetime | None
    newly_stale: bool = False


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def current_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Current (and, when the landing soft-deletes, not deleted) raw rows per source and stream."""
    r = raw_record.c
    query = select(r.source, r.stream, func.count()).where(r.is_current)
    deleted = r.get("deleted_at")
    if deleted is not None:
        query = query.where(deleted.is_(None))
    counts: dict[str, dict[str, int]] = {}
    for source, stream, n in conn.execute(query.group_by(r.source, r.stream)):
        counts.setdefault(source, {})[stream] = int(n)
    return counts


def _last_syncs(conn: Connection) -> dict[str, tuple[str, str | None, str | None]]:
    """Status, error and withheld deletions (JSON) of each source's latest finished sync."""
    s = sync_run.c
    latest = (select(s.source, func.max(s.id).label("id")).where(s.status != "running")
              .group_by(s.source).subquery())
    rows = conn.execute(select(s.source, s.status, s.error, s.deletions_withheld)
                        .join(latest, latest.c.id == s.id))
    return {r.source: (r.status, r.error, r.deletions_withheld) for r in rows}


def withheld_reason(withheld: str | None) -> str | None:
    """One line for a sync whose landing withheld deletions, e.g. ``deletions withheld: 54 (the
    last sync returned 6 of 60 live customer records)``; None when it withheld none."""
    streams = json.loads(withheld) if withheld else {}
    if not streams:
        return None
    total = sum(int(v["withheld"]) for v in streams.values())
    parts = ", ".join(f"{int(v['live']) - int(v['withheld'])} of {int(v['live'])} live {name} records"
                      for name, v in sorted(streams.items()))
    return f"deletions withheld: {total} (the last sync returned {parts})"


def _drop_reason(baseline: dict[str, int], now_counts: dict[str, int], cfg: StalenessConfig) -> str | None:
    drops = []
    for stream, base in sorted(baseline.items()):
        cur = now_counts.get(stream, 0)
        if base >= cfg.min_baseline_rows and cur < base * (1 - cfg.max_drop):
            drops.append(f"{stream} {base} -> {cur} rows")
    return f"current rows fell by more than {cfg.max_drop:.0%}: " + ", ".join(drops) if drops else None


def check_sources(conn: Connection, cfg: StalenessConfig, now: datetime | None = None) -> dict[str, SourceHealth]:
    """Judge every known source, record the verdicts in ``source_health`` and queue an alert for
    each source that has just gone stale. Returns the verdicts by source."""
    now = now or datetime.now(UTC)
    counts = current_counts(conn)
    syncs = _last_syncs(conn)
    h = source_health.c
    known = {r.source: r for r in conn.execute(select(source_health))}
    verdicts = {}
    for source in sorted(set(counts) | set(syncs) | set(known)):
        prior = known.get(source)
        baseline = json.loads(prior.baseline) if prior is not None and prior.baseline else {}
        status, error, withheld = syncs.get(source, (None, None, None))
        reason = None
        if status in ("failed", "interrupted"):
            reason = f"last sync {status}: {error or 'no error recorded'}"
        drop = _drop_reason(baseline, counts.get(source, {}), cfg)
        reason = "; ".join(x for x in (reason, withheld_reason(withheld), drop) if x) or None
        last_good = _aware(prior.last_good_at) if prior is not None else None
        if reason is None:
            verdict = SourceHealth(source, False, None, None, now)
            values = {"stale": False, "reason": None, "since": None, "last_good_at": now,
                      "baseline": json.dumps(counts.get(source, {}), sort_keys=True), "checked_at": now}
        else:
            was_stale = prior is not None and prior.stale
            since = _aware(prior.since) if was_stale and prior.since else now
            verdict = SourceHealth(source, True, reason, since, last_good, newly_stale=not was_stale)
            values = {"stale": True, "reason": reason, "since": since, "checked_at": now}
        if prior is None:
            conn.execute(insert(source_health).values(source=source, last_good_at=values.get("last_good_at"),
                                                      **{k: v for k, v in values.items() if k != "last_good_at"}))
        else:
            conn.execute(update(source_health).where(h.source == source).values(**values))
        verdicts[source] = verdict
        if verdict.newly_stale:
            age = (now - last_good) if last_good else None
            queue_stale_alert(conn, source, reason, age)
    return verdicts


def queue_stale_alert(conn: Connection, source: str, reason: str, age: timedelta | None) -> None:
    """Hand a stale source to the alerts module (quality/alerts) when it is installed; otherwise
    say so in the log — the verdict itself is in ``source_health`` either way."""
    try:
        from quality.alerts.routing import queue_source_stale_alert
    except ImportError:
        try:
            from quality.alerts import queue_source_stale_alert  # type: ignore[attr-defined]
        except ImportError:
            log.warning("source %s is stale (%s); no alerts module installed, no alert queued", source, reason)
            return
    queue_source_stale_alert(conn, source, reason, age)


def stale_sources(warehouse_url: str) -> dict[str, str]:
    """Sources the last check found stale, with their reason (for ``hub run`` / ``hub demo``);
    empty when the warehouse has no verdicts yet."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            h = source_health.c
            return dict(conn.execute(select(h.source, h.reason).where(h.stale).order_by(h.source)).all())
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
