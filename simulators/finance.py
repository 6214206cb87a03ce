"""Finance / credit-rating REST simulator.

- ``POST /api/v1/auth/token`` ``{"client_id","client_secret"}`` ->
  ``{"code":0,"message":"ok","data":{"access_token","expires_in"}}``
- ``GET /api/v1/credit-ratings?updated_since=<ISO>&page=<n>&page_size=<m>`` with
  ``Authorization: Bearer <token>`` -> ``{"code":0,"message":"ok","data":{"items","page",
  "page_size","total"}}``. Items come from ``world["finance"]["credit_rating"]`` ordered by
  (``rated_at``, ``customer_code``). ``updated_since`` keeps ratings with
  ``rated_at >= updated_since`` (inclusive, because ``rated_at`` is usually a bare date: a client
  whose bookmark is the last ``rated_at`` it saw must not miss later ratings of the same day;
  it dedups by key). Bare dates and naive times are Asia/Shanghai. ``page`` defaults to 1,
  ``page_size`` to 100 (max 1000); a page past the end has no items.

Errors (HTTP status + non-zero ``code``): 401 ``40100`` bad client credentials, ``40101``
missing/invalid token, ``40102`` expired token; 400 ``40000`` bad parameter.
Faults: ``sim.faults.inject(code=...)``: ``code`` is an HTTP status (default 503) and the body
``{"code": code, "message": ...}``.
Rate limits (simulator choice; only with ``enforce_rate_limits`` or explicit ``rate_limits``):
token 10/min, credit ratings 300/min; beyond: HTTP 429 ``{"code": 429}`` with ``Retry-After``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.common import GuardMiddleware, RateRule, SimState, json_body, parse_positive_int
from simulators.compact import CompactRecords
from simulators.compact_paths import finance_rows
from simulators.credentials import FINANCE, FinanceCredentials
from simulators.world import World, parse_time

BAD_PARAMETER = 40000
BAD_CLIENT = 40100
TOKEN_INVALID = 40101
TOKEN_EXPIRED = 40102
MAX_PAGE_SIZE = 1000
TOKEN_PATH = "/api/v1/auth/token"

#: The budget ``enforce_rate_limits`` turns on (HTTP 429 + Retry-After beyond).
DEFAULT_RATE_RULES = (
    RateRule(TOKEN_PATH, 10, 60, 429),
    RateRule("/api/v1/credit-ratings", 300, 60, 429),
)


def error_response(code: int | None, message: str = "", status: int | None = None) -> JSONResponse:
    if status is None:  # an injected fault: code is the HTTP status
        status = 503 if code is None else int(code)
        code = status
    return JSONResponse({"code": code, "message": message or f"error {code}"}, status)


def _rated_at(rec: dict[str, Any]) -> datetime | None:
    value = rec.get("rated_at")
    try:
        return parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _order(rec: dict[str, Any]) -> tuple[str, str]:
    return str(rec.get("rated_at", "")), str(rec.get("customer_code", ""))


def create_app(
    world: World,
    *,
    credentials: FinanceCredentials = FINANCE,
    token_ttl: float = 7200,
    enforce_rate_limits: bool = False,
    rate_limits: list[RateRule] | None = None,
) -> FastAPI:
    """The finance simulator serving ``world["finance"]["credit_rating"]`` (``rate_limits``
    replaces the default budget that ``enforce_rate_limits`` turns on)."""
    rules = rate_limits if rate_limits is not None else (
        list(DEFAULT_RATE_RULES) if enforce_rate_limits else None
    )
    sim = SimState(token_ttl, rules)
    app = FastAPI(title="Finance credit-rating simulator")
    app.state.sim = sim
    app.add_middleware(
        GuardMiddleware, sim=sim, error_response=error_response, limit_retry_after=True
    )

    @app.post(TOKEN_PATH)
    async def auth_token(request: Request) -> Any:
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_PARAMETER, "body must be a JSON object", 400)
        if (body.get("client_id"), body.get("client_secret")) != (
            credentials.client_id, credentials.client_secret
        ):
            return error_response(BAD_CLIENT, "invalid client_id or client_secret", 401)
        token = sim.tokens.issue()
        return {"code": 0, "message": "ok",
                "data": {"access_token": token, "expires_in": sim.tokens.expires_in}}

    @app.get("/api/v1/credit-ratings")
    async def credit_ratings(request: Request) -> Any:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        status, _ = sim.tokens.check(token.strip() if scheme.lower() == "bearer" else None)
        if status == "expired":
            return error_response(TOKEN_EXPIRED, "access token expired", 401)
        if status != "ok":
            return error_response(TOKEN_INVALID, "missing or invalid access token", 401)
        params = request.query_params
        page = parse_positive_int(params.get("page"), 1)
        size = parse_positive_int(params.get("page_size"), 100)
        if page is None or size is None or size > MAX_PAGE_SIZE:
            return error_response(
                BAD_PARAMETER, f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}", 400
            )
        rows = world.records("finance", "credit_rating")
        since = None
        if since_text := params.get("updated_since"):
            try:
                since = parse_time(since_text)
            except ValueError:
                return error_response(BAD_PARAMETER, "updated_since must be an ISO time", 400)
        if isinstance(rows, CompactRecords):  # a bench's compact world
            found = finance_rows(rows, since_text or None, since, _order, _rated_at)
            items = [rows[i] for i in found[(page - 1) * size: page * size]]
            rows = found
        else:
            if since is not None:
                rows = [r for r in rows if (t := _rated_at(r)) is not None and t >= since]
            rows = sorted(rows, key=_order)
            items = rows[(page - 1) * size: page * size]
        return {"code": 0, "message": "ok",
                "data": {"items": items, "page": page, "page_size": size, "total": len(rows)}}

    return app
