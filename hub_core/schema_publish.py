"""Tables of the publish gate: the customer_360 a build proposes, and what was published.

A build writes ``customer_360_candidate`` (the same columns as ``customer_360``); the blocking
quality checks run on the unified tables and the candidate; only when no critical check failed is
the candidate copied into ``customer_360`` in one transaction (mappings/publish.py). Each decision
- published or blocked, and by which checks - is a ``publish_run`` row, so "which build does
customer_360 show?" has one answer.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from hub_core.schema import metadata
from hub_core.schema_unified import customer_360


def _unindexed(column):
    """The column without the published table's indexes: the candidate is only ever read whole."""
    copy = column._copy()
    copy.index = None
    return copy


customer_360_candidate = Table(
    "customer_360_candidate", metadata,
    *(_unindexed(column) for column in customer_360.columns),
)

publish_run = Table(
    "publish_run", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", Integer, nullable=False, index=True),  # build_run.id of the candidate
    Column("status", String(20), nullable=False),  # published | blocked
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer),  # customer_360 rows after publishing (NULL when blocked)
    Column("blocked_by", Text),  # JSON list of the critical checks that failed (NULL when published)
)
