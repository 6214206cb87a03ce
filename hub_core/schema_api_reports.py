"""The API's share of the warehouse beyond ``schema_api``: the files of each weekly report, kept
in the warehouse.

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
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from hub_core.schema import metadata

report_file = Table(
    "report_file",
    metadata,
    Column("report_id", Integer, ForeignKey("report_run.id", ondelete="CASCADE", name="fk_report_file_report_id"),
           primary_key=True),
    Column("format", String(10), primary_key=True),  # html | xlsx | md
    Column("name", Text, nullable=False),  # the file name written into the output folder
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
