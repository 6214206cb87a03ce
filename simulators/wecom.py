"""WeCom (企业微信) simulator: token, reps, external contacts, groups, message archive, robot.

Every reply is HTTP 200 with ``errcode`` (0 = ok) and ``errmsg``.

- ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` -> ``{"access_token","expires_in"}``
- ``GET /cgi-bin/externalcontact/get_follow_user_list?access_token=`` ->
  ``{"follow_user":[userid]}``
- ``GET /cgi-bin/user/get?access_token=&userid=`` -> the ``world.wecom.follow_users`` record
  (``userid``, ``name``, ``mobile``, ...) merged into the reply.
- ``POST /cgi-bin/externalcontact/batch/get_by_user?access_token=``
  ``{"userid_list":[1..100],"cursor":"","limit":<=100 (default 50)}`` ->
  ``{"external_contact_list":[{external_contact, follow_info}],"next_cursor"}``: entries of
  ``world.wecom.external_contacts`` whose ``follow_info.userid`` is listed, in world order.
  The cursor is opaque (it encodes a scan position); ``next_cursor`` is "" when done.
- ``POST /cgi-bin/externalcontact/groupchat/list`` ``{"status_filter","owner_filter":
  {"userid_list"},"cursor","limit":1..1000}`` -> ``{"group_chat_list":[{chat_id,status}],
  "next_cursor"}`` and ``POST /cgi-bin/externalcontact/groupchat/get`` ``{"chat_id"}`` ->
  ``{"group_chat":{...}}``, from the optional ``world.wecom.groupchats``.
- ``POST /cgi-bin/msgaudit/get_chat_data?access_token=`` ``{"seq":<last seq, 0 at start>,
  "limit":1..1000}`` -> ``{"chatdata":[messages with seq > seq, ascending]}``. The real archive
  is a C SDK returning encrypted records; this serves the decrypted messages of
  ``world.wecom.messages`` over HTTP. The real archive keeps only the last 5 days; pass
  ``message_retention_days=5`` to :func:`create_app` for that. The default (None) serves all
  messages, because demo worlds carry months of history that the consistency rules need.
  The retention window is measured back from the world's clock (``meta.now``).
- ``POST /cgi-bin/webhook/send?key=<key>`` (group robot) ``{"msgtype":"text"|"markdown",...}``:
  accepted messages are recorded in ``app.state.sim.webhook_messages`` as
  ``{"key", "payload"}`` so alerting tests can read what was sent. Any non-empty key is accepted.

errcodes: ``40001`` bad corpsecret, ``40013`` bad corpid, ``41001`` access_token missing,
``40014`` invalid token, ``42001`` expired token, ``47001`` body not JSON, ``40058`` bad parameter
(userid_list/limit/cursor/seq out of range), ``60111`` unknown userid, ``40050`` unknown chat,
``40008`` bad robot msgtype, ``93000`` bad robot key, ``45009`` rate limit (only with
``enforce_rate_limits`` or explicit ``rate_limits``: robot 20 messages per minute per key,
gettoken 20/min (simulator choice), each other API 10,000 a minute as documented).
Faults: ``sim.faults.inject(code=...)`` answers with errcode ``code`` (default ``-1`` busy;
``45009`` for rate limiting).
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.common import GuardMiddleware, RateRule, SimState, is_int, json_body
from simulators.compact import CompactRecords
from simulators.compact_paths import wecom_contacts, wecom_messages
from simulators.credentials import WECOM, WecomCredentials
from simulators.world import World

OK = 0
BUSY = -1
BAD_SECRET = 40001
BAD_ROBOT_MSGTYPE = 40008
BAD_CORPID = 40013
TOKEN_INVALID = 40014
UNKNOWN_CHAT = 40050
BAD_PARAMETER = 40058
TOKEN_MISSING = 41001
TOKEN_EXPIRED = 42001
RATE_LIMIT = 45009
BAD_JSON = 47001
UNKNOWN_USER = 60111
BAD_ROBOT_KEY = 93000

DAY_MS = 86_400_000

#: The budget ``enforce_rate_limits`` turns on (errcode 45009 beyond).
DEFAULT_RATE_RULES = (
    RateRule("/cgi-bin/webhook/send", 20, 60, RATE_LIMIT),
    RateRule("/cgi-bin/gettoken", 20, 60, RATE_LIMIT),
    RateRule("/cgi-bin/", 10000, 60, RATE_LIMIT),
)


class WecomState(SimState):
    def __init__(self, token_ttl: float, rate_rules: list[RateRule] | None) -> None:
        super().__init__(token_ttl, rate_rules)
        self.webhook_messages: list[dict[str, Any]] = []


def error_response(code: int | None, message: str = "") -> JSONResponse:
    code = BUSY if code is None else code
    return JSONResponse({"errcode": code, "errmsg": message or f"error {code}"})


def ok(**fields: Any) -> dict[str, Any]:
    return {"errcode": OK, "errmsg": "ok", **fields}


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> int | None:
    """Scan position of a cursor ("" = start); None when the cursor is not one of ours."""
    if cursor in (None, ""):
        return 0
    if not isinstance(cursor, str):
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position = int(text.removeprefix("pos:")) if text.startswith("pos:") else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return position if position >= 0 else None


def scan_page(
    records: list[dict[str, Any]], start: int, limit: int, wanted: Any
) -> tuple[list[dict[str, Any]], str]:
    """Up to ``limit`` matching records from ``start`` on, and the cursor of the next match.

    Scanning from a saved position keeps a full walk linear in the number of records.
    """
    page: list[dict[str, Any]] = []
    for index in range(start, len(records)):
        if wanted(records[index]):
            if len(page) == limit:
                return page, encode_cursor(index)
            page.append(records[index])
    return page, ""


def _valid_id_list(value: Any, max_len: int) -> bool:
    return (
        isinstance(value, list)
        and 1 <= len(value) <= max_len
        and all(isinstance(v, str) for v in value)
    )


def create_app(
    world: World,
    *,
    credentials: WecomCredentials = WECOM,
    token_ttl: float = 7200,
    message_retention_days: float | None = None,
    enforce_rate_limits: bool = False,
    rate_limits: list[RateRule] | None = None,
) -> FastAPI:
    """The WeCom simulator serving ``world["wecom"]`` (``rate_limits`` replaces the default
    budget that ``enforce_rate_limits`` turns on)."""
    rules = rate_limits if rate_limits is not None else (
        list(DEFAULT_RATE_RULES) if enforce_rate_limits else None
    )
    sim = WecomState(token_ttl, rules)
    app = FastAPI(title="WeCom simulator")
    app.state.sim = sim
    app.add_middleware(GuardMiddleware, sim=sim, error_response=error_response)

    def denied(request: Request) -> JSONResponse | None:
        token = request.query_params.get("access_token")
        if not token:
            return error_response(TOKEN_MISSING, "access_token missing")
        status, _ = sim.tokens.check(token)
        if status == "expired":
            return error_response(TOKEN_EXPIRED, "access_token expired")
        if status != "ok":
            return error_response(TOKEN_INVALID, "invalid access_token")
        return None

    def follow_users() -> list[dict[str, Any]]:
        return world.records("wecom", "follow_users")

    @app.get("/cgi-bin/gettoken")
    async def gettoken(corpid: str = "", corpsecret: str = "") -> Any:
        if corpid != credentials.corpid:
            return error_response(BAD_CORPID, "invalid corpid")
        if corpsecret != credentials.corpsecret:
            return error_response(BAD_SECRET, "invalid credential: corpsecret")
        token = sim.tokens.issue()
        return ok(access_token=token, expires_in=sim.tokens.expires_in)

    @app.get("/cgi-bin/externalcontact/get_follow_user_list")
    async def get_follow_user_list(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        return ok(follow_user=[u.get("userid") for u in follow_users() if u.get("userid")])

    @app.get("/cgi-bin/user/get")
    async def user_get(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        userid = request.query_params.get("userid")
        for user in follow_users():
            if userid and user.get("userid") == userid:
                return {**user, "errcode": OK, "errmsg": "ok"}
        return error_response(UNKNOWN_USER, f"userid {userid!r} not found")

    @app.post("/cgi-bin/externalcontact/batch/get_by_user")
    async def batch_get_by_user(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_JSON, "body must be a JSON object")
        userids, limit = body.get("userid_list"), body.get("limit", 50)
        start = decode_cursor(body.get("cursor"))
        if not _valid_id_list(userids, 100):
            return error_response(BAD_PARAMETER, "userid_list must hold 1 to 100 userids")
        if not is_int(limit) or not 1 <= limit <= 100 or start is None:
            return error_response(BAD_PARAMETER, "limit must be 1..100 and cursor a returned one")
        wanted = set(userids)
        contacts = world.records("wecom", "external_contacts")
        if isinstance(contacts, CompactRecords):  # a bench's compact world
            page, next_cursor = wecom_contacts(contacts, start, limit, wanted)
        else:
            page, next_cursor = scan_page(
                contacts, start, limit,
                lambda e: (e.get("follow_info") or {}).get("userid") in wanted,
            )
        return ok(external_contact_list=page, next_cursor=next_cursor)

    @app.post("/cgi-bin/externalcontact/groupchat/list")
    async def groupchat_list(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_JSON, "body must be a JSON object")
        limit, status = body.get("limit"), body.get("status_filter", 0)
        owners = (body.get("owner_filter") or {}).get("userid_list")
        start = decode_cursor(body.get("cursor"))
        if not is_int(limit) or not 1 <= limit <= 1000 or start is None or not is_int(status):
            return error_response(BAD_PARAMETER, "limit must be 1..1000 and cursor a returned one")
        if owners is not None and not _valid_id_list(owners, 100):
            return error_response(BAD_PARAMETER, "owner_filter.userid_list must hold 1..100 ids")
        owner_set = set(owners) if owners else None

        def wanted(chat: dict[str, Any]) -> bool:
            return (owner_set is None or chat.get("owner") in owner_set) and (
                status == 0 or chat.get("status", 0) == status
            )

        page, next_cursor = scan_page(world.records("wecom", "groupchats"), start, limit, wanted)
        listed = [{"chat_id": c.get("chat_id"), "status": c.get("status", 0)} for c in page]
        return ok(group_chat_list=listed, next_cursor=next_cursor)

    @app.post("/cgi-bin/externalcontact/groupchat/get")
    async def groupchat_get(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_JSON, "body must be a JSON object")
        for chat in world.records("wecom", "groupchats"):
            if body.get("chat_id") and chat.get("chat_id") == body.get("chat_id"):
                return ok(group_chat=chat)
        return error_response(UNKNOWN_CHAT, "chat_id not found")

    @app.post("/cgi-bin/msgaudit/get_chat_data")
    async def get_chat_data(request: Request) -> Any:
        if (error := denied(request)) is not None:
            return error
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_JSON, "body must be a JSON object")
        seq, limit = body.get("seq", 0), body.get("limit", 1000)
        if not is_int(seq) or seq < 0 or not is_int(limit) or not 1 <= limit <= 1000:
            return error_response(BAD_PARAMETER, "seq must be >= 0 and limit 1..1000")
        messages: Iterable[dict[str, Any]] = world.records("wecom", "messages")
        cutoff = None
        if message_retention_days is not None:
            cutoff = world.now.timestamp() * 1000 - message_retention_days * DAY_MS
        if isinstance(messages, CompactRecords):  # a bench's compact world
            return ok(chatdata=wecom_messages(messages, seq, limit, cutoff, _number))
        if cutoff is not None:
            messages = (m for m in messages if _number(m.get("msgtime")) >= cutoff)
        newer = (m for m in messages if _number(m.get("seq")) > seq)
        return ok(chatdata=heapq.nsmallest(limit, newer, key=lambda m: _number(m.get("seq"))))

    @app.post("/cgi-bin/webhook/send")
    async def webhook_send(request: Request) -> Any:
        key = request.query_params.get("key")
        if not key:
            return error_response(BAD_ROBOT_KEY, "invalid webhook url")
        body = await json_body(request)
        if not isinstance(body, dict):
            return error_response(BAD_JSON, "body must be a JSON object")
        msgtype = body.get("msgtype")
        max_bytes = {"text": 2048, "markdown": 4096}.get(msgtype)
        if max_bytes is None:
            return error_response(BAD_ROBOT_MSGTYPE, f"unsupported msgtype {msgtype!r}")
        content = (body.get(msgtype) or {}).get("content")
        if not isinstance(content, str) or not content:
            return error_response(BAD_PARAMETER, f"{msgtype}.content is required")
        if len(content.encode()) > max_bytes:
            return error_response(BAD_PARAMETER, f"content exceeds {max_bytes} bytes")
        sim.webhook_messages.append({"key": key, "payload": body})
        return {"errcode": OK, "errmsg": "ok"}

    return app


def _number(value: Any) -> float:
    """A numeric field (seq, msgtime) as a float; missing or malformed counts as 0."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
