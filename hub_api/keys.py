"""API keys: issue, list, revoke and authenticate bearer keys, and the roles they carry.

A key reads ``hub_<key id>_<secret>``. Only the sha256 of the whole key is stored (the secret has
256 bits of entropy, so a fast hash is enough); the key id finds the row and the hashes are compared
in constant time. Keys expire and can be revoked; the roles and their permissions are data
(``roles.yaml``), not code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import Connection, insert, select, update

from hub_core.schema_api import api_key

_KEY_RE = re.compile(r"^hub_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


class GrantError(ValueError):
    """A key request that cannot be honoured (unknown role, missing employee id, ...)."""


@dataclass(frozen=True)
class Role:
    """What a role may do and which customers' rows it reaches."""

    name: str
    scope: str  # all | region | own
    permissions: frozenset[str]
    rules: tuple[str, ...] | None
    description: str


@lru_cache(maxsize=1)
def roles() -> dict[str, Role]:
    """The roles of ``roles.yaml``, by name."""
    data = yaml.safe_load(Path(__file__).with_name("roles.yaml").read_text(encoding="utf-8"))
    return {name: Role(name=name, scope=spec["scope"], permissions=frozenset(spec["permissions"]),
                       rules=tuple(spec["rules"]) if spec.get("rules") else None, description=spec["description"])
            for name, spec in data["roles"].items()}


@dataclass(frozen=True)
class Principal:
    """The holder of an authenticated key: who they are and what their queries may reach."""

    key_id: str
    name: str
    role: Role
    employee_id: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        """How the audit trail names this key's holder."""
        return f"{self.name} ({self.key_id})"

    def may(self, permission: str) -> bool:
        """Whether the role grants ``permission`` (e.g. ``discrepancies:act``)."""
        return permission in self.role.permissions


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands DateTime(timezone=True) values back naive; they were written as UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def check_grant(role: str, employee_id: str | None, regions: list[str] | None) -> None:
    """Refuse grants that would give a key no scope or a scope its role does not use."""
    known = roles()
    if role not in known:
        raise GrantError(f"unknown role {role!r}; roles: {', '.join(known)}")
    scope = known[role].scope
    if scope == "own" and not employee_id:
        raise GrantError(f"role {role} needs an employee id (whose customers the key sees)")
    if scope == "region" and not regions:
        raise GrantError(f"role {role} needs at least one region")
    if scope != "own" and employee_id:
        raise GrantError(f"role {role} takes no employee id")
    if scope != "region" and regions:
        raise GrantError(f"role {role} takes no regions")


def issue_key(conn: Connection, *, name: str, role: str, created_by: str, employee_id: str | None = None,
              regions: list[str] | None = None, expires_at: datetime | None = None) -> tuple[str, str]:
    """Store a new key and return ``(key_id, key)``; the key itself is never stored or shown again."""
    check_grant(role, employee_id, regions)
    if expires_at is not None and _aware(expires_at) <= _now():
        raise GrantError("the expiry is in the past")
    key_id = secrets.token_hex(8)
    token = f"hub_{key_id}_{secrets.token_urlsafe(32)}"
    conn.execute(insert(api_key).values(
        key_id=key_id, key_hash=_hash(token), name=name, role=role, employee_id=employee_id or None,
        regions=json.dumps(sorted(set(regions)), ensure_ascii=False) if regions else None,
        created_at=_now(), created_by=created_by, expires_at=_aware(expires_at), revoked_at=None))
    return key_id, token


def describe(row) -> dict:
    """A key's public description (never its hash)."""
    return {"key_id": row.key_id, "name": row.name, "role": row.role, "employee_id": row.employee_id,
            "regions": json.loads(row.regions) if row.regions else [],
            "created_at": _aware(row.created_at), "created_by": row.created_by,
            "expires_at": _aware(row.expires_at), "revoked_at": _aware(row.revoked_at),
            "active": row.revoked_at is None and (row.expires_at is None or _aware(row.expires_at) > _now())}


def list_keys(conn: Connection) -> list[dict]:
    """Every key ever issued, newest first."""
    rows = conn.execute(select(api_key).order_by(api_key.c.created_at.desc(), api_key.c.key_id)).all()
    return [describe(r) for r in rows]


def revoke_key(conn: Connection, key_id: str) -> dict | None:
    """Revoke a key (idempotent); None when there is no such key."""
    conn.execute(update(api_key).where(api_key.c.key_id == key_id, api_key.c.revoked_at.is_(None))
                 .values(revoked_at=_now()))
    row = conn.execute(select(api_key).where(api_key.c.key_id == key_id)).first()
    return describe(row) if row else None


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The principal of a valid, unexpired, unrevoked key; None for anything else."""
    match = _KEY_RE.match(token or "")
    if not match:
        return None
    row = conn.execute(select(api_key).where(api_key.c.key_id == match.group(1))).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(token)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and _aware(row.expires_at) <= _now()):
        return None
    role = roles().get(row.role)
    if role is None:  # a role removed from roles.yaml grants nothing
        return None
    return Principal(key_id=row.key_id, name=row.name, role=role, employee_id=row.employee_id,
                     regions=tuple(json.loads(row.regions)) if row.regions else ())
