"""Uniform errors: field-level 422s that never echo the input, 401/403/404 with one shape, and a
guard in front of the app that refuses oversized bodies and text the databases cannot store.

PostgreSQL rejects NUL characters and lone UTF-16 surrogates in text, and such input used to end
in a 500. The guard answers 422 before any route runs; pydantic bounds the numbers.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def field_errors(errors) -> list[dict]:
    """Pydantic errors reduced to location, message and type: the input (maybe a secret) is dropped."""
    return [{"loc": [str(part) for part in e.get("loc", ())], "msg": e.get("msg", "invalid"),
             "type": e.get("type", "value_error")} for e in errors]


def unprocessable(loc: list[str], msg: str, type_: str = "value_error") -> JSONResponse:
    """A 422 with one field-level message."""
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": type_}]}, status_code=422)


def _bad_text(value) -> bool:
    """True when a JSON value holds a NUL or a lone surrogate anywhere, in keys or values."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(v) for v in value)
    return False


class InputGuard:
    """ASGI middleware: 422 for NULs in the path or query, 413 for bodies over the limit, 422 for
    JSON bodies that are not JSON or carry unstorable text. The body is replayed to the app."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            return await unprocessable(["path"], "NUL characters are not allowed")(scope, receive, send)
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await JSONResponse({"detail": f"request body over {self.max_body} bytes"}, status_code=413)(
                scope, receive, send)
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await JSONResponse({"detail": f"request body over {self.max_body} bytes"}, status_code=413)(
                    scope, receive, send)
        if body:
            try:
                parsed = json.loads(bytes(body))
            except (ValueError, UnicodeDecodeError):
                return await unprocessable(["body"], "the body is not valid JSON", "json_invalid")(scope, receive, send)
            if _bad_text(parsed):
                return await unprocessable(["body"], "text may not contain NUL characters or lone surrogates")(
                    scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)


def install(app: FastAPI) -> None:
    """Register the error handlers and the input guard on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        # Log the type and route only: messages of database errors may quote the input.
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app.add_middleware(InputGuard)
