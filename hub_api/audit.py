"""The audit trail: every configuration change, key grant, acknowledgement and resolution, with
who did it, when and what changed. Callers mask secrets before details reach this module."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Connection, insert

from hub_core.schema_api import audit_event


def record(conn: Connection, *, actor: str, action: str, target: str, detail: dict) -> None:
    """Append one event in the caller's transaction, so it lands exactly when the change does."""
    conn.execute(insert(audit_event).values(at=datetime.now(UTC), actor=actor, action=action, target=target,
                                            detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)))
