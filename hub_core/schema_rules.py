"""Tables of the consistency rules beyond ``discrepancy``: the health of each source.

``source_health`` is what stale-source protection (quality/staleness.py) keeps per source: whether
its data is stale, why, since when, when it was last good, and the per-stream row counts of that
last good check (the baseline a mass disappearance is measured against).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, String, Table, Text

from hub_core.schema import metadata

source_health = Table(
    "source_health",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("stale", Boolean, nullable=False, default=False),
    Column("reason", Text),  # one line a person can act on; NULL when healthy
    Column("since", DateTime(timezone=True)),  # stale since (NULL when healthy)
    Column("last_good_at", DateTime(timezone=True)),
    Column("baseline", Text),  # JSON {stream: current raw rows} at the last good check
    Column("checked_at", DateTime(timezone=True), nullable=False),
)
