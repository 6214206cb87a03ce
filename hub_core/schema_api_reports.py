"""The API's share of the warehouse beyond ``schema_api``: the files of each weekly report, kept
in the warehouse, and the indexes the API's scoped look-ups need on the customer-360 read model.

Why the report files live in the warehouse: the API may run on another host than the job that
writes the report, and every report writes the same file names into its output folder, so a
folder only ever holds the latest one. ``report_file`` keeps each report's html / xlsx / md as
produced, so ``GET /reports/{id}/{format}`` serves exactly that report and never opens a path
that came from the database.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from hub_core.schema import metadata
from hub_core.schema_report import report_run
from hub_core.schema_unified import customer_360

report_file = Table(
    "report_file",
    metadata,
    Column("report_id", Integer, ForeignKey(report_run.c.id, ondelete="CASCADE", name="fk_report_file_report_id"),
           primary_key=True),
    Column("format", String(10), primary_key=True),  # html | xlsx | md
    Column("name", Text, nullable=False),  # the file name written into the output folder
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# Row scoping of the API reads customer_360 by owner (role rep) and by region (role region_manager).
Index("ix_customer_360_owner_employee_id", customer_360.c.owner_employee_id)
Index("ix_customer_360_region", customer_360.c.region)
