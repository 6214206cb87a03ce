"""The alert outbox: every message is written here before anyone tries to post it.

Rows move ``pending`` -> ``sent``; a failed post leaves the row ``pending`` with ``attempts``
bumped, the one-line ``last_error`` and a later ``next_attempt_at`` (exponential backoff), so
nothing is lost between runs. Rows folded into a digest become ``in_digest`` with ``digest_id``
pointing at the digest's own row. Times are stored in UTC (SQLite keeps no offset).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from hub_core.schema_alerts import alert_attempt, alert_outbox
from quality.alerts.render import Message

PENDING, SENT, IN_DIGEST = "pending", "sent", "in_digest"


class ConcurrentSend(RuntimeError):
    """Another send took some of the rows this one was about to fold or post."""


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands them back naive)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` (default: the clock) in UTC; a naive time is refused rather than guessed."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("alert times need a timezone")
    return now.astimezone(UTC)


def row_for(robot: str, category: str, subject: str, message: Message, now: datetime,
            level: int | None = None, severity: str | None = None) -> dict:
    """An outbox row for a rendered message, due at once."""
    return {"robot": robot, "category": category, "subject": subject, "level": level, "severity": severity,
            "title": message.title, "body": message.body, "mentions": message.mentions_json(),
            "status": PENDING, "attempts": 0, "last_error": None, "created_at": now,
            "next_attempt_at": now, "sent_at": None, "digest_id": None}


def add(conn: Connection, rows: list[dict]) -> list[int]:
    """Insert outbox rows in one batch; their ids in the order given."""
    if not rows:
        return []
    result = conn.execute(insert(alert_outbox).returning(alert_outbox.c.id, sort_by_parameter_order=True), rows)
    return [r.id for r in result]


def due(conn: Connection, now: datetime) -> list:
    """Pending rows whose next attempt is due, oldest first."""
    o = alert_outbox.c
    return conn.execute(select(alert_outbox).where(o.status == PENDING, o.next_attempt_at <= now)
                        .order_by(o.id)).all()


def used_budget(conn: Connection, robot: str, now: datetime, window: timedelta = timedelta(minutes=1)) -> int:
    """Posts to ``robot`` in the last ``window`` (they count against the vendor's rate)."""
    a = alert_attempt.c
    return conn.execute(select(func.count()).select_from(alert_attempt)
                        .where(a.robot == robot, a.attempted_at > now - window)).scalar_one()


def claim(conn: Connection, row, now: datetime, lease: timedelta) -> bool:
    """Take ``row`` for one post: push its next attempt past the post's lease, only if it is
    still pending and due. False when another sender took it first (so two concurrent sends
    never post the same message; a sender that dies mid-post leaves it due again after the lease)."""
    o = alert_outbox.c
    result = conn.execute(update(alert_outbox).where(o.id == row.id, o.status == PENDING, o.next_attempt_at <= now)
                          .values(next_attempt_at=now + lease))
    return result.rowcount == 1


def fold_into_digest(conn: Connection, robot: str, message: Message, member_ids: list[int], now: datetime) -> int:
    """Write a digest row for ``member_ids`` and mark them ``in_digest`` (one transaction)."""
    [digest_id] = add(conn, [row_for(robot, "digest", "digest", message, now)])
    o = alert_outbox.c
    folded = conn.execute(update(alert_outbox).where(o.id.in_(member_ids), o.status == PENDING)
                          .values(status=IN_DIGEST, digest_id=digest_id)).rowcount
    if folded != len(member_ids):
        raise ConcurrentSend(f"{len(member_ids) - folded} of the digest's messages were taken by another send")
    return digest_id


def record_attempt(conn: Connection, row, now: datetime, error: str | None, backoff: timedelta) -> None:
    """Record one post of ``row``: sent, or still pending with its error and next attempt time."""
    conn.execute(insert(alert_attempt), {"outbox_id": row.id, "robot": row.robot, "attempted_at": now,
                                         "ok": error is None, "error": error})
    values: dict = {"attempts": alert_outbox.c.attempts + 1}
    if error is None:
        values.update(status=SENT, sent_at=now)
    else:
        values.update(last_error=error, next_attempt_at=now + backoff)
    conn.execute(update(alert_outbox).where(alert_outbox.c.id == row.id).values(**values))
    if error is None and row.category == "digest":
        conn.execute(update(alert_outbox).where(alert_outbox.c.digest_id == row.id).values(sent_at=now))


def listing(conn: Connection, status: str | None = None, limit: int = 50) -> list:
    """The newest outbox rows (for ``hub alerts list``)."""
    o = alert_outbox.c
    query = select(o.id, o.robot, o.category, o.subject, o.level, o.title, o.status, o.attempts,
                   o.last_error, o.created_at, o.next_attempt_at, o.sent_at, o.digest_id)
    if status:
        query = query.where(o.status == status)
    return conn.execute(query.order_by(o.id.desc()).limit(limit)).all()
