"""Administration over HTTP: API keys (issue, list, revoke) and the audit trail. Admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, select

from hub_api import audit, paging
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import GrantError, Principal, issue_key, list_keys, revoke_key
from hub_api.models import aware
from hub_core.schema_api import audit_event

router = APIRouter(responses=COMMON_RESPONSES)

Name = Annotated[str, Field(min_length=1, max_length=200)]


class KeyIn(BaseModel):
    """A key to issue: who holds it, their role, and for reps / regional managers their scope."""

    name: Name
    role: Annotated[str, Field(min_length=1, max_length=20)]
    employee_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    regions: Annotated[list[Name], Field(max_length=50)] | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=90, description="Days until the key stops working; null for a key that never expires.")


class KeyOut(BaseModel):
    """A key's description; the key itself is never shown after it is issued."""

    key_id: str
    name: str
    role: str
    employee_id: str | None
    regions: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class IssuedKey(KeyOut):
    """A freshly issued key: ``key`` is shown this once."""

    key: str


@router.post("/api-keys", response_model=IssuedKey, status_code=201, tags=["admin"])
def create_key(body: KeyIn, who: Annotated[Principal, Depends(require("keys:admin"))],
               conn: Conn) -> dict:
    """Issue a key. Store it somewhere safe: only its hash is kept."""
    expires = datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        key_id, token = issue_key(conn, name=body.name, role=body.role, employee_id=body.employee_id,
                                  regions=body.regions, expires_at=expires, created_by=who.actor)
    except GrantError as exc:
        raise HTTPException(422, [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]) from None
    audit.record(conn, actor=who.actor, action="key.issue", target=f"key:{key_id}",
                 detail={"name": body.name, "role": body.role, "employee_id": body.employee_id,
                         "regions": body.regions, "expires_at": expires})
    conn.commit()
    [described] = [k for k in list_keys(conn) if k["key_id"] == key_id]
    return {**described, "key": token}


@router.get("/api-keys", response_model=list[KeyOut], tags=["admin"])
def get_keys(who: Annotated[Principal, Depends(require("keys:admin"))], conn: Conn) -> list[dict]:
    """Every key issued, with whether it still works."""
    return list_keys(conn)


@router.delete("/api-keys/{key_id}", response_model=KeyOut, tags=["admin"],
               responses={404: {"description": "No such key."}})
def delete_key(key_id: Annotated[str, Path(min_length=1, max_length=32)], who: Annotated[Principal, Depends(require("keys:admin"))],
               conn: Conn) -> dict:
    """Revoke a key at once (kept for the audit trail)."""
    described = revoke_key(conn, key_id)
    if described is None:
        raise HTTPException(404, "no such key")
    audit.record(conn, actor=who.actor, action="key.revoke", target=f"key:{key_id}", detail={"name": described["name"]})
    conn.commit()
    return described


class AuditOut(BaseModel):
    """One audited change."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict


class AuditPage(BaseModel):
    """A page of audit events, newest first."""

    items: list[AuditOut]
    total: int
    next_cursor: str | None


@router.get("/audit", response_model=AuditPage, tags=["admin"])
def get_audit(
    who: Annotated[Principal, Depends(require("audit:read"))],
    conn: Conn,
    action: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    target: Annotated[str | None, Query(min_length=1, max_length=600)] = None,
    since: AwareDatetime | None = None,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> dict:
    """The audit trail: configuration changes, key grants, acknowledgements and resolutions."""
    a = audit_event.c
    where = []
    if action is not None:
        where.append(a.action == action)
    if target is not None:
        where.append(a.target == target)
    if since is not None:
        where.append(a.at >= since)
    count = select(func.count()).select_from(audit_event).where(*where)
    if cursor is not None:
        [before] = paging.decode("audit", cursor, [int])
        where.append(a.id < before)
    rows = conn.execute(select(audit_event).where(*where).order_by(a.id.desc()).limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": [{"id": r.id, "at": aware(r.at), "actor": r.actor, "action": r.action, "target": r.target,
                       "detail": json.loads(r.detail)} for r in rows],
            "total": conn.execute(count).scalar_one(),
            "next_cursor": paging.encode("audit", [rows[-1].id]) if more else None}
