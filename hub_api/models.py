"""Response shapes of the data endpoints (they make the OpenAPI document precise) and the row
converters that fill them. Owners appear by name and region, never by internal employee id."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import BaseModel

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


class RunOut(BaseModel):
    """A sync run of one source."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    records_seen: int
    records_landed: int
    records_rejected: int
    error: str | None


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
            "records_landed": row.records_landed, "records_rejected": row.records_rejected, "error": row.error}
