"""Fenxiang Xiaoke (ShareCRM) OpenAPI simulator.

Endpoints (all POST, JSON body, HTTP 200 always; success is ``errorCode == 0``):

- ``/cgi/corpAccessToken/get/V2`` ``{"appId","appSecret","permanentCode"}`` ->
  ``{"errorCode":0,"errorMessage":"OK","traceId","corpAccessToken","corpId","expiresIn"}``
- ``/cgi/crm/v2/data/query`` (preset objects) and ``/cgi/crm/custom/v2/data/query`` (objects
  whose apiName ends in ``__c``) -> ``{"errorCode":0,"errorMessage":"OK","traceId",
  "data":{"dataList","offset","limit","total"}}``. Records come from ``world["crm"][object]``;
  empty fields (None, "", []) are omitted; ``fieldProjection`` limits fields (``_id`` is kept).
  Without ``orders`` rows come in world order.

Error codes: ``10006`` bad appId/appSecret/permanentCode; ``20016`` token missing, unknown
or expired; ``20017`` wrong corpId or currentOpenUserId; ``10013`` offset > 10000;
``10001`` (simulator choice) malformed request: body not JSON, missing ``data``/
``dataObjectApiName``/``search_query_info``, ``limit`` not in 1..100, ``offset`` negative or not
a multiple of ``limit``, bad filter/order; ``10004`` (simulator choice) unknown object, or an
object asked on the wrong endpoint (preset vs custom); ``14001`` call limit (only with
``enforce_rate_limits`` - token endpoint 10/min, each query endpoint 100 per 20 s, the real
budget - or with explicit ``rate_limits``, e.g. smaller windows for tests).
Faults: ``sim.faults.inject(code=...)`` answers with ``errorCode`` ``code`` (default ``-1``
busy; ``30004``, ``14001``, ``50009``... also make sense).

Filter semantics: ``field_values`` is a list of strings. A numeric record value (epoch ms,
amounts) compares numerically, anything else as a string (booleans as ``"true"``/``"false"``).
A list value (``owner``, ``data_own_department``) matches when any element does. Negated
operators (N, NLIKE, NIN, NBETWEEN, NHASANYOF) are the negation of their positive twin, so
records lacking the field match them. IS/ISN test for an empty/non-empty field and ignore
``field_values``. LIKE/NLIKE are substring tests; BETWEEN is inclusive.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.common import GuardMiddleware, RateRule, SimState, is_int, json_body
from simulators.compact import CompactRecords
from simulators.compact_paths import crm_rows
from simulators.credentials import CRM, CrmCredentials
from simulators.crm_keyset import KeysetIndex
from simulators.world import World

OK = 0
BAD_PARAMETER = 10001
UNKNOWN_OBJECT = 10004
BAD_APP_SECRET = 10006
OFFSET_TOO_DEEP = 10013
CALL_LIMIT = 14001
TOKEN_INVALID = 20016
NO_AUTH = 20017
BUSY = -1

MAX_LIMIT = 100
MAX_OFFSET = 10000

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"

#: Fenxiang's real budget: token endpoint 10 calls a minute, ~100 calls / 20 s per endpoint.
DEFAULT_RATE_RULES = (
    RateRule(TOKEN_PATH, 10, 60, CALL_LIMIT),
    RateRule("/data/query", 100, 20, CALL_LIMIT),
)


class CrmError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _trace_id() -> str:
    return uuid.uuid4().hex


def error_response(code: int | None, message: str = "") -> JSONResponse:
    code = BUSY if code is None else code
    return JSONResponse(
        {"errorCode": code, "errorMessage": message or f"error {code}", "traceId": _trace_id()}
    )


# ---------------------------------------------------------------- filters

_Test = Callable[[Any], bool]
OPERATORS = (
    "EQ", "N", "GT", "GTE", "LT", "LTE", "LIKE", "NLIKE", "IS", "ISN",
    "IN", "NIN", "BETWEEN", "NBETWEEN", "STARTWITH", "ENDWITH", "HASANYOF", "NHASANYOF",
)
_NEGATED = {"N": "EQ", "NLIKE": "LIKE", "NIN": "IN", "NBETWEEN": "BETWEEN", "NHASANYOF": "HASANYOF"}
_MIN_VALUES = {"GT": 1, "GTE": 1, "LT": 1, "LTE": 1, "LIKE": 1, "STARTWITH": 1, "ENDWITH": 1,
               "EQ": 1, "IN": 1, "HASANYOF": 1, "BETWEEN": 2}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _never(_: Any) -> bool:
    return False


def _tests(op: str, values: list[str]) -> tuple[_Test, _Test]:
    """(test of a numeric record value, test of a non-empty string value) for a positive op."""
    first = values[0]
    n0 = _to_float(first)
    if op in ("EQ", "IN", "HASANYOF"):
        numbers = {n for n in map(_to_float, values) if n is not None}
        return numbers.__contains__, set(values).__contains__
    if op == "BETWEEN":
        lo, hi, last = n0, _to_float(values[1]), values[1]
        num = (lambda v: lo <= v <= hi) if lo is not None and hi is not None else _never
        return num, lambda s: first <= s <= last
    compare = {
        "GT": (lambda a, b: a > b), "GTE": (lambda a, b: a >= b),
        "LT": (lambda a, b: a < b), "LTE": (lambda a, b: a <= b),
    }.get(op)
    if compare is not None:
        return (lambda v: compare(v, n0)) if n0 is not None else _never, lambda s: compare(s, first)
    text_test: _Test = {
        "LIKE": lambda s: first in s,
        "STARTWITH": lambda s: s.startswith(first),
        "ENDWITH": lambda s: s.endswith(first),
    }[op]
    return (lambda v: text_test(str(v))), text_test


def _value_test(op: str, values: list[str]) -> _Test:
    """A test of one record value: numbers numerically, lists by any element, empty never."""
    num_test, str_test = _tests(op, values)

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value != "" and str_test(value)
        if kind is int or kind is float:
            return num_test(value)
        if kind is list:
            return any(test(v) for v in value)
        if kind is bool:
            return str_test("true" if value else "false")
        return value is not None and kind is not dict and str_test(str(value))

    return test


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def compile_filter(spec: Any) -> Callable[[dict[str, Any]], bool]:
    """Turn one ``{field_name, operator, field_values}`` into a record predicate."""
    if not isinstance(spec, dict):
        raise CrmError(BAD_PARAMETER, "each filter must be an object")
    field, op, values = spec.get("field_name"), spec.get("operator"), spec.get("field_values")
    if not isinstance(field, str) or not field:
        raise CrmError(BAD_PARAMETER, "filter field_name must be a non-empty string")
    if op not in OPERATORS:
        raise CrmError(BAD_PARAMETER, f"unknown filter operator {op!r}")
    if op in ("IS", "ISN"):
        want_empty = op == "IS"
        return lambda rec: _is_empty(rec.get(field)) == want_empty
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CrmError(BAD_PARAMETER, f"filter on {field}: field_values must be a list of strings")
    positive = _NEGATED.get(op, op)
    if len(values) < _MIN_VALUES[positive]:
        raise CrmError(BAD_PARAMETER, f"filter on {field}: {op} needs more field_values")
    test = _value_test(positive, values)
    if op in _NEGATED:
        return lambda rec: not test(rec.get(field))
    return lambda rec: test(rec.get(field))


# ---------------------------------------------------------------- ordering and paging

_EMPTY_KEY = (0, 0)


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Sort key that orders mixed values: empty first, then numbers, then text."""

    def key(rec: dict[str, Any]) -> tuple[Any, ...]:
        value = rec.get(field)
        kind = type(value)
        if kind is str:
            return (2, value) if value else _EMPTY_KEY
        if kind is int or kind is float or kind is bool:
            return (1, value)
        if kind is list:
            value = ",".join(_as_text(v) for v in value)
        return _EMPTY_KEY if _is_empty(value) else (2, _as_text(value))

    return key


def _check_orders(orders: Any) -> None:
    if not isinstance(orders, list):
        raise CrmError(BAD_PARAMETER, "orders must be a list")
    for order in orders:
        if not isinstance(order, dict) or not isinstance(order.get("fieldName"), str):
            raise CrmError(BAD_PARAMETER, "each order needs a fieldName")
        if not isinstance(order.get("isAsc", True), bool):
            raise CrmError(BAD_PARAMETER, "order isAsc must be a boolean")


def _top(rows: list[dict[str, Any]], orders: Any, count: int) -> list[dict[str, Any]]:
    """The first ``count`` rows in the requested order (world order without orders)."""
    if orders in (None, []):
        return rows[:count]
    _check_orders(orders)
    if len(orders) == 1:
        # A page needs only the first offset+limit rows: a bounded heap beats a full sort.
        # nsmallest/nlargest are documented equal to a stable sorted(...)[:count].
        pick = heapq.nsmallest if orders[0].get("isAsc", True) else heapq.nlargest
        return pick(count, rows, key=_sort_key(orders[0]["fieldName"]))
    # Stable sorts from the last key to the first give a multi-key order with mixed directions.
    for order in reversed(orders):
        rows = sorted(rows, key=_sort_key(order["fieldName"]), reverse=not order.get("isAsc", True))
    return rows[:count]


def _render(rec: dict[str, Any], projection: list[str] | None) -> dict[str, Any]:
    fields = rec.keys() if projection is None else [f for f in projection if f in rec]
    out = {f: rec[f] for f in fields if not _is_empty(rec[f])}
    if "_id" in rec and "_id" not in out:
        out = {"_id": rec["_id"], **out}
    return out


def run_query(
    records: list[dict[str, Any]] | CompactRecords, info: Any, index: KeysetIndex | None = None,
    name: str = "",
) -> dict[str, Any]:
    """Apply ``search_query_info`` to one object's records; return the response ``data``.
    With ``index`` (and the object's ``name``), keyset pages are answered by bisection."""
    if not isinstance(info, dict):
        raise CrmError(BAD_PARAMETER, "data.search_query_info is required")
    limit, offset = info.get("limit"), info.get("offset", 0)
    if not is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        raise CrmError(BAD_PARAMETER, f"limit must be an integer from 1 to {MAX_LIMIT}")
    if not is_int(offset) or offset < 0:
        raise CrmError(BAD_PARAMETER, "offset must be a non-negative integer")
    if offset > MAX_OFFSET:
        raise CrmError(OFFSET_TOO_DEEP, f"offset must not exceed {MAX_OFFSET}")
    if offset % limit:
        raise CrmError(BAD_PARAMETER, "offset must be a multiple of limit")
    filters = info.get("filters") or []
    if not isinstance(filters, list):
        raise CrmError(BAD_PARAMETER, "filters must be a list")
    projection = info.get("fieldProjection") or None
    if projection is not None and (
        not isinstance(projection, list) or not all(isinstance(f, str) for f in projection)
    ):
        raise CrmError(BAD_PARAMETER, "fieldProjection must be a list of field names")

    predicates = [compile_filter(f) for f in filters]
    if isinstance(records, CompactRecords):  # a bench's compact world: simulators/compact_paths.py
        orders = info.get("orders")
        if orders not in (None, []):
            _check_orders(orders)
        ordered, total = crm_rows(records, filters, predicates, orders or None, offset + limit, _sort_key)
        return {"dataList": [_render(r, projection) for r in ordered[offset:]], "offset": offset,
                "limit": limit, "total": total}
    keyset = index.page(name, records, filters, predicates, info.get("orders"), offset + limit) if index else None
    if keyset is not None:
        ordered, total = keyset
    else:
        rows = records
        for predicate in predicates:
            rows = [r for r in rows if predicate(r)]
        ordered, total = _top(rows, info.get("orders"), offset + limit), len(rows)
    page = [_render(r, projection) for r in ordered[offset:]]
    return {"dataList": page, "offset": offset, "limit": limit, "total": total}


# ---------------------------------------------------------------- app

def create_app(
    world: World,
    *,
    credentials: CrmCredentials = CRM,
    token_ttl: float = 7200,
    enforce_rate_limits: bool = False,
    rate_limits: list[RateRule] | None = None,
) -> FastAPI:
    """The CRM simulator serving ``world["crm"]``.

    ``rate_limits`` (enforced when given) replaces the real budget that
    ``enforce_rate_limits`` turns on."""
    rules = rate_limits if rate_limits is not None else (
        list(DEFAULT_RATE_RULES) if enforce_rate_limits else None
    )
    sim = SimState(token_ttl, rules)
    app = FastAPI(title="Fenxiang Xiaoke CRM simulator")
    app.state.sim = sim
    app.add_middleware(GuardMiddleware, sim=sim, error_response=error_response)
    keyset = KeysetIndex(_sort_key)

    @app.post(TOKEN_PATH)
    async def corp_access_token(request: Request) -> Any:
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_PARAMETER, "body must be a JSON object")
        if (body.get("appId"), body.get("appSecret"), body.get("permanentCode")) != (
            credentials.app_id, credentials.app_secret, credentials.permanent_code
        ):
            return error_response(BAD_APP_SECRET, "invalid appId, appSecret or permanentCode")
        token = sim.tokens.issue(corp_id=credentials.corp_id)
        return {
            "errorCode": OK, "errorMessage": "OK", "traceId": _trace_id(),
            "corpAccessToken": token, "corpId": credentials.corp_id,
            "expiresIn": sim.tokens.expires_in,
        }

    async def query(request: Request, custom: bool) -> Any:
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_PARAMETER, "body must be a JSON object")
        status, claims = sim.tokens.check(body.get("corpAccessToken"))
        if status != "ok":
            return error_response(TOKEN_INVALID, f"corpAccessToken {status}")
        if body.get("corpId") != claims["corp_id"]:
            return error_response(NO_AUTH, "corpId does not match the token")
        if body.get("currentOpenUserId") != credentials.current_open_user_id:
            return error_response(NO_AUTH, "unknown currentOpenUserId")
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("dataObjectApiName"), str):
            return error_response(BAD_PARAMETER, "data.dataObjectApiName is required")
        name = data["dataObjectApiName"]
        if name not in world.names("crm") or name.endswith("__c") != custom:
            return error_response(UNKNOWN_OBJECT, f"object {name} not found on this endpoint")
        try:
            result = run_query(world.records("crm", name), data.get("search_query_info"), keyset, name)
        except CrmError as exc:
            return error_response(exc.code, exc.message)
        return {"errorCode": OK, "errorMessage": "OK", "traceId": _trace_id(), "data": result}

    @app.post("/cgi/crm/v2/data/query")
    async def data_query(request: Request) -> Any:
        return await query(request, custom=False)

    @app.post("/cgi/crm/custom/v2/data/query")
    async def custom_data_query(request: Request) -> Any:
        return await query(request, custom=True)

    return app
