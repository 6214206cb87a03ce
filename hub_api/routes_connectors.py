"""Connector configurations over HTTP, for IT: create, read, change, delete. Configs are stored
encrypted (``secret_box``), validated against the connector's schema with field-level 422s, and
shown, logged and audited only with their secrets masked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import Connection, delete, insert, select, update

from connectors.sources import BUILTIN_TAPS
from hub_api import audit
from hub_api.connector_schema import MASK, config_errors, mask, secret_fields
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models import aware
from hub_api.secret_box import SecretKeyError, seal, unseal
from hub_core.schema_api import connector_config

router = APIRouter(responses=COMMON_RESPONSES)

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
TAP_EXECUTABLE = re.compile(r"^tap-[A-Za-z0-9_.-]{1,100}$")
ConnectorName = Annotated[str, Path(pattern=NAME_PATTERN, description="Source name.")]
Builtin = Literal[tuple(BUILTIN_TAPS)]
Command = Annotated[list[Annotated[str, Field(min_length=1, max_length=500)]], Field(min_length=1, max_length=20)]
Streams = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=500)]
_RESPONSES = {404: {"description": "No such connector."},
              503: {"description": "No secret key configured, or the stored config does not decrypt."}}


class ConnectorIn(BaseModel):
    """A source: a built-in connector or a Singer tap command, its config and stream selection."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    connector: Builtin | None = None
    command: Command | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    streams: Streams | None = None
    enabled: bool = True

    @field_validator("command")
    @classmethod
    def _a_tap_on_the_path(cls, command: list[str] | None) -> list[str] | None:
        # Over HTTP, a command is a Singer tap found on the hub's PATH, never a path or a shell:
        # an API key must not become a way to run arbitrary programs on the hub.
        if command is not None and not TAP_EXECUTABLE.match(command[0]):
            raise ValueError("the command must start with a Singer tap name on the PATH, like tap-mysql")
        return command

    @model_validator(mode="after")
    def _one_way_to_run(self):
        if (self.connector is None) == (self.command is None):
            raise ValueError("give exactly one of 'connector' (built-in) or 'command' (a Singer tap)")
        return self


class ConnectorPatch(BaseModel):
    """Changes to a source. Config keys merge into the stored config (null removes a key); a secret
    sent back as the mask keeps its stored value."""

    config: dict[str, Any] | None = None
    streams: Streams | None = None
    enabled: bool | None = None


class ConnectorOut(BaseModel):
    """A source with its secrets masked."""

    name: str
    connector: str | None
    command: list[str] | None
    config: dict[str, Any]
    secret_fields: list[str]
    streams: list[str] | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


def _unavailable(exc: SecretKeyError) -> HTTPException:
    return HTTPException(503, str(exc))


def _invalid(connector: str | None, config: dict) -> None:
    errors = config_errors(connector, config)
    if errors:
        raise HTTPException(422, errors)


def _out(row, config: dict) -> dict:
    return {"name": row.name, "connector": row.connector, "command": json.loads(row.command) if row.command else None,
            "config": mask(row.connector, config), "secret_fields": sorted(secret_fields(row.connector, config)),
            "streams": json.loads(row.streams) if row.streams else None, "enabled": bool(row.enabled),
            "created_at": aware(row.created_at), "updated_at": aware(row.updated_at)}


def _load(conn: Connection, name: str):
    row = conn.execute(select(connector_config).where(connector_config.c.name == name)).first()
    if row is None:
        raise HTTPException(404, "no such connector")
    try:
        return row, unseal(row.config_encrypted, f"connector {name}")
    except SecretKeyError as exc:
        raise _unavailable(exc) from None


def _changes(connector: str | None, before: dict, after: dict) -> dict:
    """What changed, secrets shown only as changed."""
    secret = secret_fields(connector, before) | secret_fields(connector, after)
    changed = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changed[f"config.{key}"] = "changed" if key in secret else [mask(connector, before).get(key),
                                                                       mask(connector, after).get(key)]
    return changed


@router.get("/connectors", response_model=list[ConnectorOut], tags=["connectors"], responses=_RESPONSES)
def list_connectors(who: Annotated[Principal, Depends(require("connectors:admin"))],
                    conn: Conn) -> list[dict]:
    """Every configured source, secrets masked."""
    rows = conn.execute(select(connector_config).order_by(connector_config.c.name)).all()
    try:
        return [_out(r, unseal(r.config_encrypted, f"connector {r.name}")) for r in rows]
    except SecretKeyError as exc:
        raise _unavailable(exc) from None


@router.post("/connectors", response_model=ConnectorOut, status_code=201, tags=["connectors"],
             responses={**_RESPONSES, 409: {"description": "A connector of that name exists."}})
def create_connector(body: ConnectorIn, who: Annotated[Principal, Depends(require("connectors:admin"))],
                     conn: Conn) -> dict:
    """Configure a new source."""
    masked_sent = [k for k, v in body.config.items() if v == MASK]
    if masked_sent:
        raise HTTPException(422, [{"loc": ["body", "config", k], "msg": "give the value, not the mask",
                                   "type": "value_error"} for k in masked_sent])
    _invalid(body.connector, body.config)
    if conn.execute(select(connector_config.c.name).where(connector_config.c.name == body.name)).first():
        raise HTTPException(409, f"connector {body.name} exists; change it with PATCH")
    try:
        sealed = seal(body.config)
    except SecretKeyError as exc:
        raise _unavailable(exc) from None
    now = datetime.now(UTC)
    conn.execute(insert(connector_config).values(
        name=body.name, connector=body.connector, command=json.dumps(body.command) if body.command else None,
        config_encrypted=sealed, streams=json.dumps(body.streams) if body.streams is not None else None,
        enabled=body.enabled, created_at=now, updated_at=now))
    audit.record(conn, actor=who.actor, action="connector.create", target=f"connector:{body.name}",
                 detail={"connector": body.connector, "command": body.command, "config": mask(body.connector, body.config),
                         "streams": body.streams, "enabled": body.enabled})
    conn.commit()
    row, config = _load(conn, body.name)
    return _out(row, config)


@router.get("/connectors/{name}", response_model=ConnectorOut, tags=["connectors"], responses=_RESPONSES)
def get_connector(name: ConnectorName, who: Annotated[Principal, Depends(require("connectors:admin"))],
                  conn: Conn) -> dict:
    """One source, secrets masked."""
    row, config = _load(conn, name)
    return _out(row, config)


@router.patch("/connectors/{name}", response_model=ConnectorOut, tags=["connectors"], responses=_RESPONSES)
def patch_connector(name: ConnectorName, body: ConnectorPatch, who: Annotated[Principal, Depends(require("connectors:admin"))],
                    conn: Conn) -> dict:
    """Change a source's config, stream selection or enabled flag."""
    row, before = _load(conn, name)
    after = dict(before)
    for key, value in (body.config or {}).items():
        if value is None:
            after.pop(key, None)
        elif value != MASK:
            after[key] = value
        elif key not in before:
            raise HTTPException(422, [{"loc": ["body", "config", key], "msg": "no stored value to keep",
                                       "type": "value_error"}])
    _invalid(row.connector, after)
    values, detail = {}, _changes(row.connector, before, after)
    if after != before:
        try:
            values["config_encrypted"] = seal(after)
        except SecretKeyError as exc:
            raise _unavailable(exc) from None
    if body.streams is not None or "streams" in body.model_fields_set:
        new_streams = json.dumps(body.streams) if body.streams is not None else None
        if new_streams != row.streams:
            values["streams"] = new_streams
            detail["streams"] = [json.loads(row.streams) if row.streams else None, body.streams]
    if body.enabled is not None and body.enabled != bool(row.enabled):
        values["enabled"] = body.enabled
        detail["enabled"] = [bool(row.enabled), body.enabled]
    if values:
        values["updated_at"] = datetime.now(UTC)
        conn.execute(update(connector_config).where(connector_config.c.name == name).values(**values))
        audit.record(conn, actor=who.actor, action="connector.update", target=f"connector:{name}", detail=detail)
        conn.commit()
    row, config = _load(conn, name)
    return _out(row, config)


@router.delete("/connectors/{name}", status_code=204, tags=["connectors"], responses={404: _RESPONSES[404]})
def delete_connector(name: ConnectorName, who: Annotated[Principal, Depends(require("connectors:admin"))],
                     conn: Conn) -> Response:
    """Remove a source's configuration (its landed data stays)."""
    gone = conn.execute(delete(connector_config).where(connector_config.c.name == name)).rowcount
    if not gone:
        raise HTTPException(404, "no such connector")
    audit.record(conn, actor=who.actor, action="connector.delete", target=f"connector:{name}", detail={})
    conn.commit()
    return Response(status_code=204)
