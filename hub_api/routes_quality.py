"""Data quality of the latest build: completeness (per source, entity and owner), freshness per
source, quarantine counts and data-quality finding counts.

Only counts and shares leave this endpoint, never records or raw values. Completeness per owner is
scoped like customers (a region manager sees the owners of their regions, a rep themself) and the
per-source and per-entity shares are computed over those same rows, in SQL; freshness,
quarantine and findings describe the sources, not customers, and are shown to every reader.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection, func, select

from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models import aware
from hub_api.scope import owner_scope
from hub_core.schema import customer_review, raw_reject, sync_run
from hub_core.schema_rules import source_health
from hub_core.schema_unified import (
    build_run,
    data_completeness,
    data_quality_finding,
    employee,
    mapping_quarantine,
)

router = APIRouter(responses=COMMON_RESPONSES, tags=["quality"])


class Share(BaseModel):
    """Records and complete records (>= the configured share of key fields filled) of a group."""

    source: str | None = None
    entity: str | None = None
    owner: str | None = None
    region: str | None = None
    records: int
    complete_records: int
    completeness_index: float


class Completeness(BaseModel):
    """The completeness index of the records in the caller's scope, overall and broken down."""

    overall: Share
    by_source: list[Share]
    by_entity: list[Share]
    by_owner: list[Share]


class Freshness(BaseModel):
    """One source: its stale-source verdict (``source_health``) and its latest syncs."""

    source: str
    stale: bool | None
    reason: str | None
    stale_since: datetime | None
    last_good_at: datetime | None
    checked_at: datetime | None
    last_success_at: datetime | None
    age_hours: float | None
    last_run_status: str | None


class Count(BaseModel):
    """A count of rows of one kind."""

    source: str
    stream: str | None = None
    entity: str | None = None
    kind: str | None = None
    count: int


class BuildOut(BaseModel):
    """The build the figures describe."""

    id: int
    status: str
    as_of: datetime
    finished_at: datetime | None


class QualityOut(BaseModel):
    """Data quality as of the latest build."""

    build: BuildOut | None
    completeness: Completeness
    freshness: list[Freshness]
    mapping_quarantine: list[Count]
    landing_rejects: list[Count]
    findings: list[Count]
    review_queue: int


def _share(row, **labels) -> dict:
    records, ok = int(row.records or 0), int(row.ok or 0)
    return {**labels, "records": records, "complete_records": ok,
            "completeness_index": round(ok / records, 4) if records else 0.0}


def _completeness(conn: Connection, who: Principal) -> dict:
    d = data_completeness.c
    scoped = owner_scope(who, d.owner_employee_id)
    sums = (func.sum(d.records).label("records"), func.sum(d.complete_records).label("ok"))
    overall = conn.execute(select(*sums).where(scoped)).one()
    by_source = conn.execute(select(d.system, *sums).where(scoped).group_by(d.system).order_by(d.system)).all()
    by_entity = conn.execute(select(d.entity, d.system, *sums).where(scoped).group_by(d.entity, d.system)
                             .order_by(d.entity, d.system)).all()
    e = employee.c
    by_owner = conn.execute(select(e.name, e.region, *sums)
                            .select_from(data_completeness.join(employee, e.employee_id == d.owner_employee_id))
                            .where(scoped).group_by(e.employee_id, e.name, e.region).order_by(e.name, e.employee_id)).all()
    return {"overall": _share(overall),
            "by_source": [_share(r, source=r.system) for r in by_source],
            "by_entity": [_share(r, source=r.system, entity=r.entity) for r in by_entity],
            "by_owner": [_share(r, owner=r.name, region=r.region) for r in by_owner]}


def _freshness(conn: Connection, now: datetime) -> list[dict]:
    s = sync_run.c
    good = dict(conn.execute(select(s.source, func.max(s.finished_at)).where(s.status == "succeeded")
                             .group_by(s.source)).all())
    latest = select(s.source, func.max(s.id).label("id")).group_by(s.source).subquery()
    last_status = dict(conn.execute(select(s.source, s.status).join(latest, latest.c.id == s.id)).all())
    health = {r.source: r for r in conn.execute(select(source_health))}
    out = []
    for source in sorted(set(good) | set(last_status) | set(health)):
        h = health.get(source)
        ok = aware(good.get(source))
        out.append({"source": source, "stale": bool(h.stale) if h else None, "reason": h.reason if h else None,
                    "stale_since": aware(h.since) if h else None, "last_good_at": aware(h.last_good_at) if h else None,
                    "checked_at": aware(h.checked_at) if h else None, "last_success_at": ok,
                    "age_hours": round((now - ok).total_seconds() / 3600, 1) if ok else None,
                    "last_run_status": last_status.get(source)})
    return out


@router.get("/quality", response_model=QualityOut)
def quality(who: Annotated[Principal, Depends(require("quality:read"))], conn: Conn) -> dict:
    """Completeness, freshness, quarantine and findings of the latest build."""
    b = build_run.c
    build = conn.execute(select(b.id, b.status, b.as_of, b.finished_at).order_by(b.id.desc()).limit(1)).first()
    q, f, rj = mapping_quarantine.c, data_quality_finding.c, raw_reject.c
    quarantine = conn.execute(select(q.source, q.stream, func.count().label("count"))
                              .group_by(q.source, q.stream).order_by(q.source, q.stream)).all()
    rejects = conn.execute(select(rj.source, func.count().label("count")).group_by(rj.source).order_by(rj.source)).all()
    findings = conn.execute(select(f.source, f.entity, f.kind, func.count().label("count"))
                            .group_by(f.source, f.entity, f.kind).order_by(f.source, f.entity, f.kind)).all()
    return {
        "build": {"id": build.id, "status": build.status, "as_of": aware(build.as_of),
                  "finished_at": aware(build.finished_at)} if build else None,
        "completeness": _completeness(conn, who),
        "freshness": _freshness(conn, datetime.now(UTC)),
        "mapping_quarantine": [dict(r._mapping) for r in quarantine],
        "landing_rejects": [dict(r._mapping) for r in rejects],
        "findings": [dict(r._mapping) for r in findings],
        "review_queue": conn.execute(select(func.count()).select_from(customer_review)).scalar_one(),
    }
