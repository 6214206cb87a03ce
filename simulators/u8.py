"""Yonyou U8 OpenAPI simulator (the REST path; the database path needs no simulator).

Endpoints (GET; ``errcode`` is always a **string**, page numbers come back as strings):

- ``/system/token?from_account=&app_key=&app_secret=`` ->
  ``{"errcode":"0","errmsg":"","token":{"id","expiresIn"}}``
- ``/api/{resource}/batch_get?from_account=&to_account=&app_key=&token=&ds_sequence=1
  &page_index=1&rows_per_page=20&<filters>`` -> ``{"errcode":"0","errmsg":"","page_index",
  "rows_per_page","row_count","page_count","<resource>":[headers]}``. Headers only: a
  document's ``entry`` lines are stripped. Rows come in a stable order by natural key.
  An empty result (or a page past the last) is errcode ``"20002"`` (no data).
- ``/api/{name}/get?...&id=<natural key>`` -> ``{"errcode":"0","errmsg":"","<name>":{record
  with entry}}``. ``name`` is either the list resource (``saleorderlist``) or, like the real
  U8 OpenAPI (``saleorder/get``), the resource without its ``list`` suffix; **the response key
  is the name used in the URL** (``/api/saleorder/get`` -> ``"saleorder"``).
  Unknown id: ``"20002"``.

Resources: every list under ``world["u8"]`` (plus the standard ones, empty when absent).
Natural keys: ``code``; ``saleinvoicelist`` -> ``invoiceno``; ``currentstock`` (which has no
code of its own) -> ``"<invcode>|<whcode>"``, with ``"|<batch>"`` appended when the row has a
batch number (U8 OpenAPI field names ``invcode``, ``whcode``, ``batch``; ``inventory_code``
and ``warehouse_code`` are accepted in their place).

Filters (inclusive ranges; dates compare on their ``YYYY-MM-DD`` part; unknown parameters are
ignored, as the real OpenAPI ignores them): the document lists (``saleorderlist``,
``consignmentlist``, ``saleinvoicelist``, ``oughtreceivelist``, ``acceptlist``):
``date_begin``/``date_end`` on ``date``; ``customer``: ``code_begin``/``code_end``, ``name``
(substring) - no date or modified-time filter, so a customer read is always the whole table;
``saleorderlist``: ``state``;
``oughtreceivelist``: ``cust_vendor_code`` (= ``custcode``); ``inventory``:
``modifydate_begin``/``modifydate_end`` on ``ModifyDate``, ``code_begin``/``code_end``;
``currentstock``: ``invcode_begin``/``invcode_end``, ``whcode_begin``/``whcode_end``, ``batch``.

errcodes (the real list is undocumented; these are simulator choices): ``"20002"`` no data;
``"30001"`` token invalid or expired (refresh and retry once); ``"40001"`` wrong
from_account/app_key/app_secret, or a data call whose from_account/app_key/to_account do not
match the token; ``"40002"`` bad parameter (page_index/rows_per_page not positive integers,
bad date, missing id); ``"40004"`` unknown resource.
Faults: ``sim.faults.inject(code=...)``: an int is an HTTP status (default 500; 429 for rate
limiting) with body ``{"errcode":"-1","errmsg":...}``; a string is an errcode sent with HTTP 200.
Rate limits (simulator choice, the real ones are undocumented; only with
``enforce_rate_limits`` or explicit ``rate_limits``): token 10/min, every ``/api/`` call
together 300 per second; beyond: HTTP 429 with ``Retry-After``.
``sim.document_faults[<natural key>] = fault`` makes every ``get`` of that one document fail
until the entry is removed: a string is an errcode (HTTP 200), ``"truncated"`` a JSON body cut
short (HTTP 200).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from simulators.common import GuardMiddleware, RateRule, SimState, parse_positive_int
from simulators.compact import CompactRecords
from simulators.compact_paths import u8_find, u8_rows
from simulators.credentials import U8, U8Credentials
from simulators.world import World

OK = "0"
NO_DATA = "20002"
TOKEN_INVALID = "30001"
BAD_CREDENTIALS = "40001"
BAD_PARAMETER = "40002"
UNKNOWN_RESOURCE = "40004"

Record = dict[str, Any]

#: The budget ``enforce_rate_limits`` turns on (HTTP 429 + Retry-After beyond).
DEFAULT_RATE_RULES = (
    RateRule("/system/token", 10, 60, 429),
    RateRule("/api/", 300, 1, 429, per_path=False),
)


def error_response(code: Any, message: str = "") -> JSONResponse:
    if isinstance(code, str):
        return JSONResponse({"errcode": code, "errmsg": message or f"error {code}"})
    status = 500 if code is None else int(code)
    return JSONResponse({"errcode": "-1", "errmsg": f"server busy (HTTP {status})"}, status)


# ---------------------------------------------------------------- natural keys

def _stock_inv(rec: Record) -> Any:
    # U8 OpenAPI names are invcode/whcode; worlds written like dispatch lines use the long names.
    return rec.get("invcode", rec.get("inventory_code"))


def _stock_wh(rec: Record) -> Any:
    return rec.get("whcode", rec.get("warehouse_code"))


def natural_key(resource: str, rec: Record) -> str:
    if resource == "saleinvoicelist":
        return str(rec.get("invoiceno", ""))
    if resource == "currentstock":
        parts = [_text(_stock_inv(rec)) or "", _text(_stock_wh(rec)) or ""]
        if rec.get("batch"):
            parts.append(str(rec["batch"]))
        return "|".join(parts)
    return str(rec.get("code", ""))


# ---------------------------------------------------------------- filters

def _day(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _at_least(get: Callable[[Record], str | None], bound: str) -> Callable[[Record], bool]:
    return lambda r: (v := get(r)) is not None and v >= bound


def _at_most(get: Callable[[Record], str | None], bound: str) -> Callable[[Record], bool]:
    return lambda r: (v := get(r)) is not None and v <= bound


def _field(
    name: str, convert: Callable[[Any], str | None] = _text
) -> Callable[[Record], str | None]:
    return lambda r: convert(r.get(name))


def _modify_day(rec: Record) -> str | None:
    return _day(rec.get("ModifyDate", rec.get("modifydate")))


def _stock_inv_text(rec: Record) -> str | None:
    return _text(_stock_inv(rec))


def _stock_wh_text(rec: Record) -> str | None:
    return _text(_stock_wh(rec))


_DATE = _field("date", _day)
# parameter -> (value getter, kind); kind is ">=", "<=", "=", "contains"; date bounds are
# validated as dates.
_DATES = {"date_begin": (_DATE, ">="), "date_end": (_DATE, "<=")}
_CODE = {"code_begin": (_field("code"), ">="), "code_end": (_field("code"), "<=")}
FILTERS: dict[str, dict[str, tuple[Callable[[Record], str | None], str]]] = {
    "customer": {**_CODE, "name": (_field("name"), "contains")},
    "saleorderlist": {**_DATES, "state": (_field("state"), "=")},
    "consignmentlist": _DATES,
    "saleinvoicelist": _DATES,
    "oughtreceivelist": {**_DATES, "cust_vendor_code": (_field("custcode"), "=")},
    "acceptlist": _DATES,
    "inventory": {
        **_CODE,
        "modifydate_begin": (_modify_day, ">="),
        "modifydate_end": (_modify_day, "<="),
    },
    "currentstock": {
        "invcode_begin": (_stock_inv_text, ">="), "invcode_end": (_stock_inv_text, "<="),
        "whcode_begin": (_stock_wh_text, ">="), "whcode_end": (_stock_wh_text, "<="),
        "batch": (_field("batch"), "="),
    },
}
_DATE_PARAMS = {"date_begin", "date_end", "modifydate_begin", "modifydate_end"}


def build_filters(resource: str, params: dict[str, str]) -> list[Callable[[Record], bool]]:
    """Predicates for the filter parameters a resource understands; ValueError on a bad date."""
    table = FILTERS.get(resource, {})
    predicates: list[Callable[[Record], bool]] = []
    for param, (get, kind) in table.items():
        value = params.get(param)
        if value is None or value == "":
            continue
        if param in _DATE_PARAMS:
            value = date.fromisoformat(value[:10]).isoformat()
        if kind == ">=":
            predicates.append(_at_least(get, value))
        elif kind == "<=":
            predicates.append(_at_most(get, value))
        elif kind == "=":
            predicates.append(lambda r, g=get, v=value: g(r) == v)
        else:
            predicates.append(lambda r, g=get, v=value: v in (g(r) or ""))
    return predicates


# ---------------------------------------------------------------- app

class _KeyIndex:
    """Natural key -> record, per resource, so ``get`` is not a scan of the whole list; and
    each list in natural-key order, so a ``batch_get`` page is not a sort of the whole list.

    Tests mutate the world between calls: both are rebuilt when the list is replaced or
    changes length, a hit is re-checked against the record's current key, and a miss
    rescans. The order assumes a record's natural key is not edited in place."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._maps: dict[str, tuple[int, int, dict[str, Record]]] = {}
        self._sorted: dict[str, tuple[int, int, list[Record]]] = {}

    def ordered(self, resource: str) -> list[Record]:
        """The resource's records sorted (stably) by natural key; do not modify the list."""
        records = self.world.records("u8", resource)
        shape = (id(records), len(records))
        cached = self._sorted.get(resource)
        if cached is None or cached[:2] != shape:
            cached = (*shape, sorted(records, key=lambda r: natural_key(resource, r)))
            self._sorted[resource] = cached
        return cached[2]

    def find(self, resource: str, wanted: str) -> Record | None:
        records = self.world.records("u8", resource)
        shape = (id(records), len(records))
        cached = self._maps.get(resource)
        if cached is not None and cached[:2] == shape:
            rec = cached[2].get(wanted)
            if rec is not None and natural_key(resource, rec) == wanted:
                return rec
        mapping = {natural_key(resource, r): r for r in records}
        self._maps[resource] = (*shape, mapping)
        return mapping.get(wanted)


def create_app(
    world: World,
    *,
    credentials: U8Credentials = U8,
    token_ttl: float = 7200,
    enforce_rate_limits: bool = False,
    rate_limits: list[RateRule] | None = None,
) -> FastAPI:
    """The U8 OpenAPI simulator serving ``world["u8"]`` (``rate_limits`` replaces the
    default budget that ``enforce_rate_limits`` turns on)."""
    rules = rate_limits if rate_limits is not None else (
        list(DEFAULT_RATE_RULES) if enforce_rate_limits else None
    )
    sim = SimState(token_ttl, rules)
    sim.document_faults = {}  # natural key -> errcode or "truncated", see the module docstring
    app = FastAPI(title="Yonyou U8 OpenAPI simulator")
    index = _KeyIndex(world)
    app.state.sim = sim
    app.add_middleware(
        GuardMiddleware, sim=sim, error_response=error_response, limit_retry_after=True
    )

    @app.get("/system/token")
    async def system_token(from_account: str = "", app_key: str = "", app_secret: str = "") -> Any:
        if (from_account, app_key, app_secret) != (
            credentials.from_account, credentials.app_key, credentials.app_secret
        ):
            return error_response(BAD_CREDENTIALS, "invalid from_account, app_key or app_secret")
        token = sim.tokens.issue(from_account=from_account, app_key=app_key)
        expires_in = sim.tokens.expires_in
        return {"errcode": OK, "errmsg": "", "token": {"id": token, "expiresIn": expires_in}}

    def authorize(params: dict[str, str]) -> JSONResponse | None:
        status, claims = sim.tokens.check(params.get("token"))
        if status != "ok":
            return error_response(TOKEN_INVALID, f"token {status}")
        if (
            params.get("from_account") != claims["from_account"]
            or params.get("app_key") != claims["app_key"]
            or params.get("to_account") != credentials.to_account
        ):
            return error_response(BAD_CREDENTIALS, "from_account, app_key or to_account mismatch")
        return None

    @app.get("/api/{resource}/batch_get")
    async def batch_get(resource: str, request: Request) -> Any:
        params = dict(request.query_params)
        if (denied := authorize(params)) is not None:
            return denied
        if resource not in world.names("u8"):
            return error_response(UNKNOWN_RESOURCE, f"unknown resource {resource}")
        page = parse_positive_int(params.get("page_index"), 1)
        size = parse_positive_int(params.get("rows_per_page"), 20)
        if page is None or size is None:
            return error_response(BAD_PARAMETER, "page_index and rows_per_page must be >= 1")
        try:
            predicates = build_filters(resource, params)
        except ValueError:
            return error_response(BAD_PARAMETER, "dates must be YYYY-MM-DD")
        records = world.records("u8", resource)
        if isinstance(records, CompactRecords):  # a bench's compact world
            relevant = {k: v for k, v in params.items() if k in FILTERS.get(resource, {}) and v}
            rows = u8_rows(records, resource, natural_key, relevant, predicates)
            chunk = [records[i] for i in rows[(page - 1) * size: page * size]]
        else:
            rows = index.ordered(resource)
            if predicates:
                rows = [r for r in rows if all(p(r) for p in predicates)]
            chunk = rows[(page - 1) * size: page * size]
        if not chunk:
            return error_response(NO_DATA, "没有数据 (no data)")
        return {
            "errcode": OK, "errmsg": "",
            "page_index": str(page), "rows_per_page": str(size),
            "row_count": str(len(rows)), "page_count": str(math.ceil(len(rows) / size)),
            resource: [{k: v for k, v in r.items() if k != "entry"} for r in chunk],
        }

    @app.get("/api/{name}/get")
    async def get_one(name: str, request: Request) -> Any:
        params = dict(request.query_params)
        if (denied := authorize(params)) is not None:
            return denied
        names = world.names("u8")
        resource = name if name in names else f"{name}list"
        if resource not in names:
            return error_response(UNKNOWN_RESOURCE, f"unknown resource {name}")
        wanted = params.get("id")
        if not wanted:
            return error_response(BAD_PARAMETER, "id is required")
        fault = sim.document_faults.get(wanted)
        if fault == "truncated":
            return Response('{"errcode":"0","errmsg":"","' + name + '":{"code":"', media_type="application/json")
        if fault is not None:
            return error_response(str(fault), f"document {wanted} cannot be read")
        records = world.records("u8", resource)
        if isinstance(records, CompactRecords):
            rec = u8_find(records, resource, natural_key, wanted)
        else:
            rec = index.find(resource, wanted)
        if rec is not None:
            return {"errcode": OK, "errmsg": "", name: rec}
        return error_response(NO_DATA, f"{name} {wanted} not found")

    return app
