"""Landing-quality events of sync runs: schema drift and duplicate keys.

The quarantine itself is ``raw_reject`` (hub_core/schema.py): one row per distinct bad payload.
These two tables say what else a run noticed while landing (connectors/drift.py):

- ``schema_drift``: a declared field whose value came with another JSON type, or a field the
  stream's SCHEMA does not declare; one row per run and distinct event, with how many records
  showed it and what the stream's policy (evolve / freeze / quarantine) did with them.
- ``sync_duplicate_key``: a record key that came more than once within one run (the last
  version wins; the repeats are reported here, never silently).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from hub_core.schema import metadata

schema_drift = Table(
    "schema_drift",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sync_run_id", Integer, nullable=False, index=True),
    Column("source", String(100), nullable=False, index=True),
    Column("stream", String(200), nullable=False),
    Column("field", Text, nullable=False),  # path of the field, parts joined by "/"
    Column("kind", String(20), nullable=False),  # type_change | new_field
    Column("declared", Text),  # the declared JSON type(s); NULL for a new field
    Column("observed", String(20), nullable=False),  # the JSON type the value came with
    Column("action", String(20), nullable=False),  # evolve | freeze | quarantine
    Column("records", Integer, nullable=False),  # records of the run that showed it
    Column("example_key", Text),  # one record key that showed it
    Column("detected_at", DateTime(timezone=True), nullable=False),
)

sync_duplicate_key = Table(
    "sync_duplicate_key",
    metadata,
    Column("sync_run_id", Integer, primary_key=True),
    Column("stream", String(200), primary_key=True),
    Column("record_key", String(500), primary_key=True),
    Column("source", String(100), nullable=False, index=True),
    Column("occurrences", Integer, nullable=False),  # times the key came in the run (>= 2)
)
