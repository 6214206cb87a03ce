"""Tables of the weekly consistency report.

``report_run`` remembers when each report was written and for which window, so the next report
can tell new / persisting / resolved items "since the last report" instead of guessing.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table
from sqlalchemy.types import BigInteger

from hub_core.schema import metadata

report_run = Table(
    "report_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", DateTime(timezone=True), nullable=False, index=True),  # end of the report window
    Column("since", DateTime(timezone=True), nullable=False),  # start: the previous report or week boundary
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("lang", String(10), nullable=False),
    Column("weekly", Boolean, nullable=False, default=False),
    Column("open_count", Integer, nullable=False),
    Column("new_count", Integer, nullable=False),
    Column("persisting_count", Integer, nullable=False),
    Column("resolved_count", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
)
