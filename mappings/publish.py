"""Publish the customer_360 a build proposed - or record why it was not.

A build writes ``customer_360_candidate`` (mappings/customer360.py). Whoever runs the quality gate
(the Dagster ``customer_360`` asset behind its blocking checks, ``hub build``) calls
:func:`publish` when no critical check failed: the candidate replaces ``customer_360`` in one
transaction (readers see the old rows or the new ones, never a mix) and a ``publish_run`` row says
which build is published. A blocked gate calls :func:`record_blocked`: ``customer_360`` stays
exactly as it was and the row names the failed checks. :func:`unpublished` tells the report
whether the latest build is the published one (the report is never made from an unpublished build).

This module knows no checks and no Dagster: it only moves rows and keeps the record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, insert, select

from hub_core.schema_publish import customer_360_candidate, publish_run
from hub_core.schema_unified import build_run, customer_360


class NothingToPublish(RuntimeError):
    """No successful build exists yet (one line)."""


@dataclass
class PublishOutcome:
    """One decision of the gate for the latest build."""

    build_id: int
    published: bool
    rows: int | None = None  # customer_360 rows after publishing
    blocked_by: list[str] = field(default_factory=list)


def latest_build(conn: Connection) -> int | None:
    """The id of the latest successful build (what a publish would publish)."""
    b = build_run.c
    return conn.execute(select(func.max(b.id)).where(b.status == "succeeded")).scalar()


def published_build(conn: Connection) -> int | None:
    """The id of the build ``customer_360`` shows (None before the first publish)."""
    p = publish_run.c
    return conn.execute(select(p.build_id).where(p.status == "published").order_by(p.id.desc()).limit(1)).scalar()


def publish(engine: Engine) -> PublishOutcome:
    """Copy the candidate of the latest successful build into ``customer_360`` (one transaction,
    set-based ``INSERT ... SELECT``) and record it. Call only when no critical check failed."""
    columns = [c.name for c in customer_360.columns]
    with engine.begin() as conn:
        build_id = latest_build(conn)
        if build_id is None:
            raise NothingToPublish("no successful build of the unified model to publish — run hub build first")
        conn.execute(delete(customer_360))
        conn.execute(insert(customer_360).from_select(
            columns, select(*(customer_360_candidate.c[name] for name in columns))))
        rows = conn.execute(select(func.count()).select_from(customer_360)).scalar_one()
        conn.execute(insert(publish_run).values(build_id=build_id, status="published",
                                                decided_at=datetime.now(UTC), rows=rows))
    return PublishOutcome(build_id, True, rows)


def record_blocked(engine: Engine, blocked_by: list[str]) -> PublishOutcome | None:
    """Record that the latest build was not published because of ``blocked_by`` (the failed
    critical checks); ``customer_360`` is not touched. None when there is no build at all."""
    with engine.begin() as conn:
        build_id = latest_build(conn)
        if build_id is None:
            return None
        conn.execute(insert(publish_run).values(build_id=build_id, status="blocked", decided_at=datetime.now(UTC),
                                                blocked_by=json.dumps(sorted(blocked_by))))
    return PublishOutcome(build_id, False, blocked_by=sorted(blocked_by))


def unpublished(conn: Connection) -> str | None:
    """Why the latest successful build is not the published one (one line), or None when it is
    published - or when no build exists yet (nothing unpublished to report from)."""
    build_id = latest_build(conn)
    if build_id is None or published_build(conn) == build_id:
        return None
    p = publish_run.c
    last = conn.execute(select(p.status, p.blocked_by).where(p.build_id == build_id)
                        .order_by(p.id.desc()).limit(1)).first()
    if last is not None and last.status == "blocked":
        checks = ", ".join(json.loads(last.blocked_by or "[]")) or "a critical check"
        return (f"build {build_id} was not published: critical quality checks failed ({checks}); "
                "fix the data or the expectation and run hub build (or hub run) again")
    return (f"build {build_id} has not been through the quality gate yet; "
            "run hub build (or hub run) to check and publish it")
