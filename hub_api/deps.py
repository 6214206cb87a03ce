"""Request dependencies: the warehouse connection, the authenticated principal, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import Connection

from hub_api.keys import Principal, authenticate


class ErrorOut(BaseModel):
    """An error: a message, or for 422 a list of field-level messages."""

    detail: str | list[dict]


COMMON_RESPONSES = {
    401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked API key."},
    403: {"model": ErrorOut, "description": "The key's role lacks the permission."},
    413: {"model": ErrorOut, "description": "Request body over 64 KiB."},
    422: {"model": ErrorOut, "description": "Invalid input: field-level messages (the input is never echoed)."},
}

bearer = HTTPBearer(auto_error=False, description="An API key issued by `hub users add` or POST /api-keys.")


def connection(request: Request) -> Iterator[Connection]:
    """A warehouse connection for one request; committed only by routes that write."""
    with request.app.state.engine().connect() as conn:
        yield conn


def principal(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The key's holder, or 401 for a missing, malformed, unknown, expired or revoked key."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"})
    with request.app.state.engine().connect() as conn:
        who = authenticate(conn, credentials.credentials)
    if who is None:
        raise HTTPException(401, "invalid, expired or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return who


Conn = Annotated[Connection, Depends(connection)]


def require(permission: str):
    """A dependency that returns the principal when it holds ``permission``, else 403."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.may(permission):
            raise HTTPException(403, f"role {who.role.name} may not {permission.replace(':', ' ')}")
        return who

    return check
