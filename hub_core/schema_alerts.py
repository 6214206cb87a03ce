"""Alert tables: the outbox of robot messages, its delivery attempts, and what was alerted.

- ``alert_outbox``: every message due is written here first, then delivered. A row stays
  ``pending`` until a robot accepted it (``sent``); a failed try bumps ``attempts``, records a
  one-line ``last_error`` (never a webhook key or signing secret) and sets ``next_attempt_at``
  (backoff). Rows batched into a digest become ``in_digest`` and point at the digest's row
  (``digest_id``); the digest row itself is delivered and retried like any other message.
- ``alert_attempt``: one row per HTTP post to a robot (ok or not): the history behind
  ``attempts`` and the per-robot budget of the vendors' "20 messages a minute".
- ``alert_sent``: one row per (discrepancy, escalation level, occurrence) once its message is
  queued, so the same discrepancy is never alerted twice at the same level. ``occurrence`` is
  the discrepancy's ``first_seen`` (UTC, ISO): a discrepancy that was resolved and came back is
  a new occurrence and alerts again.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text

from hub_core.schema import metadata

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("robot", String(100), nullable=False),  # robot name in alerts.yaml
    Column("category", String(20), nullable=False),  # discrepancy | source_stale | digest
    Column("subject", Text, nullable=False),  # discrepancy id, "source:<name>", or "digest"
    Column("level", Integer),
    Column("severity", String(10)),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),  # rendered markdown for the robot's platform
    Column("mentions", Text, nullable=False),  # JSON {"userids": [...], "mobiles": [...]}
    Column("status", String(20), nullable=False),  # pending | sent | in_digest
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("digest_id", Integer),
)
Index("ix_alert_outbox_due", alert_outbox.c.status, alert_outbox.c.robot, alert_outbox.c.next_attempt_at)

alert_attempt = Table(
    "alert_attempt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, nullable=False, index=True),
    Column("robot", String(100), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
)
Index("ix_alert_attempt_robot_time", alert_attempt.c.robot, alert_attempt.c.attempted_at)

alert_sent = Table(
    "alert_sent",
    metadata,
    Column("discrepancy_id", Text, primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("occurrence", String(40), primary_key=True),
    Column("outbox_id", Integer, nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
)
