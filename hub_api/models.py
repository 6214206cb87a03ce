"""Response shapes of the data endpoints (they make the OpenAPI document precise) and the row
converters that fill them. Owners appear by name and region, never by internal employee id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from quality.report import money


def aware(moment: datetime | None) -> datetime | None:
    """The moment as UTC-aware: SQLite returns ``DateTime(timezone=True)`` values naive (written as UTC)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class DiscrepancyOut(BaseModel):
    """A discrepancy; ``amount_cny`` is an exact decimal string."""

    discrepancy_id: str
    rule: str
    severity: str
    customer_id: str | None
    customer_name: str | None
    owner: str | None
    region: str | None
    amount_cny: str
    refs: list[str]
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    status: str


class NoteOut(BaseModel):
    """A note left when someone acknowledged or resolved a discrepancy."""

    action: str
    comment: str
    actor: str
    at: datetime


class DiscrepancyDetail(DiscrepancyOut):
    """A discrepancy with its notes."""

    notes: list[NoteOut]


class DiscrepancyPage(BaseModel):
    """A page of discrepancies; ``total`` is counted on the first page (see the ``count`` parameter)."""

    items: list[DiscrepancyOut]
    total: int | None
    next_cursor: str | None


class WithheldOut(BaseModel):
    """A stream whose soft deletions a run withheld: the pass returned too few of its live records
    to be believed (an outage more likely than mass deletion), so nothing was marked deleted."""

    live: int = Field(description="Live records of the stream before the pass.")
    withheld: int = Field(description="Of those, the ones the pass did not return (not marked deleted).")


class RunOut(BaseModel):
    """A sync run of one source. The landing-quality counts (quarantined, duplicate keys, drift
    events) are null for runs recorded before the hub counted them."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    records_seen: int
    records_landed: int
    records_rejected: int
    records_quarantined: int | None = Field(
        description="New quarantine entries: payloads set aside for the first time (repeats are merged).")
    duplicate_keys: int | None = Field(
        description="Extra occurrences of record keys already seen in the run (the last version landed).")
    drift_events: int | None = Field(
        description="Distinct schema drift events (a field of another type, an undeclared field).")
    deletions_withheld: dict[str, WithheldOut] | None = Field(
        description="Per stream, deletions withheld because the pass looked like an outage; null when none.")
    error: str | None


class DriftEventOut(BaseModel):
    """One schema drift event of a run: a field that did not match its stream's declared SCHEMA,
    and what the stream's drift policy did with the records that showed it."""

    stream: str
    field: str = Field(description="Path of the field, parts joined by '/' (array positions as '*').")
    kind: Literal["type_change", "new_field"]
    declared: str | None = Field(description="The declared JSON type(s); null for a new field.")
    observed: str = Field(description="The JSON type the value came with.")
    action: Literal["evolve", "freeze", "quarantine"]
    records: int = Field(description="Records of the run that showed it.")
    example_key: str | None = Field(description="The key of one record that showed it.")
    detected_at: datetime


class RunDetail(RunOut):
    """A sync run with its schema drift events: the most frequent first, at most 100 of them
    (``drift_more`` says there are more; a tap with dynamic field names can drift in thousands of
    ways); their number is ``drift_events``."""

    drift: list[DriftEventOut]
    drift_more: bool


class RunPage(BaseModel):
    """A page of sync runs."""

    items: list[RunOut]
    total: int
    next_cursor: str | None


def discrepancy_out(row) -> dict:
    """A discrepancy row as a ``DiscrepancyOut``, money exact."""
    return {"discrepancy_id": row.discrepancy_id, "rule": row.rule, "severity": row.severity,
            "customer_id": row.customer_id, "customer_name": row.customer_name, "owner": row.owner,
            "region": row.region, "amount_cny": money(row.amount_cents), "refs": json.loads(row.refs),
            "first_seen": aware(row.first_seen), "last_seen": aware(row.last_seen),
            "resolved_at": aware(row.resolved_at), "status": row.status}


def run_out(row) -> dict:
    """A sync_run row as a ``RunOut``."""
    return {"id": row.id, "source": row.source, "started_at": aware(row.started_at),
            "finished_at": aware(row.finished_at), "status": row.status, "records_seen": row.records_seen,
            "records_landed": row.records_landed, "records_rejected": row.records_rejected,
            "records_quarantined": row.records_quarantined, "duplicate_keys": row.duplicate_keys,
            "drift_events": row.drift_events,
            "deletions_withheld": json.loads(row.deletions_withheld) if row.deletions_withheld else None,
            "error": row.error}


def drift_out(row) -> dict:
    """A schema_drift row as a ``DriftEventOut``."""
    return {"stream": row.stream, "field": row.field, "kind": row.kind, "declared": row.declared,
            "observed": row.observed, "action": row.action, "records": row.records,
            "example_key": row.example_key, "detected_at": aware(row.detected_at)}
