"""Group-robot simulators: WeCom (企业微信) webhook robots and DingTalk (钉钉) custom robots.

Both answer HTTP 200 with ``{"errcode", "errmsg"}`` (0 = ok), as the vendors do.

- WeCom: ``POST /cgi-bin/webhook/send?key=<key>`` with ``{"msgtype":"markdown","markdown":
  {"content"}}`` (<= 4096 bytes; mentions are ``<@userid>`` inside the content) or
  ``{"msgtype":"text","text":{"content","mentioned_list"}}`` (<= 2048 bytes). Unknown key:
  ``93000``; bad msgtype ``40008``; missing/oversized content ``40058``; body not JSON ``47001``;
  more than ``rate_limit`` messages per ``rate_window`` seconds on one key: ``45009``.
- DingTalk: ``POST /robot/send?access_token=&timestamp=<ms>&sign=<sig>`` where
  ``sig = urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``;
  a wrong signature or a timestamp more than one hour away from the clock: ``310000``; unknown
  access token ``300001``; bad payload ``40035``; over the rate: ``130101``. Payload
  ``{"msgtype":"markdown","markdown":{"title","text"},"at":{"atMobiles":[...],"isAtAll":false}}``
  or ``{"msgtype":"text","text":{"content"},"at":{...}}``.

Test hooks on ``app.state.sim`` (a :class:`RobotState`):

- ``sim.wecom_keys`` (set of valid keys) and ``sim.dingtalk_robots`` (access token -> secret);
  the defaults are :data:`WECOM_ROBOT_KEYS` and :data:`DINGTALK_ROBOTS`.
- ``sim.messages``: every accepted message as ``{"platform", "robot", "payload", "at"}``
  (``robot`` is the key or access token, ``at`` the clock time it arrived);
  ``sim.rejected``: refused calls as ``{"platform", "robot", "errcode"}``.
- ``sim.faults.inject(count, code, path)``: the next matching calls fail. ``code`` is an HTTP
  status 500-599 (answered with that status), ``"timeout"`` (the reply is held for
  ``sim.timeout_delay`` seconds, longer than a sane client timeout), or a vendor errcode
  (answered as HTTP 200 with that errcode, e.g. ``45009``, ``-1``). Paths are
  ``/cgi-bin/webhook/send`` and ``/robot/send``.
- ``sim.clock``: wall-clock seconds (``time.time`` by default) used for the DingTalk
  timestamp window and the rate window; tests may replace it to move time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.common import Faults, json_body

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"

# Default robots the simulator knows (simulator-only values; real ones come from the environment).
WECOM_ROBOT_KEYS = ("sim-wecom-robot-key-1", "sim-wecom-robot-key-2", "sim-wecom-robot-key-3")
DINGTALK_ROBOTS = {
    "sim-dingtalk-token-1": "SECsim-dingtalk-secret-1",
    "sim-dingtalk-token-2": "SECsim-dingtalk-secret-2",
}

WECOM_RATE_LIMIT = 45009
WECOM_BAD_MSGTYPE = 40008
WECOM_BAD_PARAMETER = 40058
WECOM_BAD_JSON = 47001
WECOM_BAD_KEY = 93000
WECOM_LIMITS = {"text": 2048, "markdown": 4096}

DINGTALK_BAD_SIGN = 310000
DINGTALK_BAD_TOKEN = 300001
DINGTALK_BAD_PAYLOAD = 40035
DINGTALK_RATE_LIMIT = 130101
DINGTALK_WINDOW_MS = 3_600_000
DINGTALK_LIMITS = {"text": 20000, "markdown": 20000}


def dingtalk_sign(timestamp_ms: int | str, secret: str) -> str:
    """The DingTalk robot signature of a timestamp, already URL-encoded (as the vendor documents)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class RobotState:
    """Robots, received messages, injected faults and per-robot rate windows."""

    def __init__(self, rate_limit: int, rate_window: float, clock: Callable[[], float]) -> None:
        self.wecom_keys: set[str] = set(WECOM_ROBOT_KEYS)
        self.dingtalk_robots: dict[str, str] = dict(DINGTALK_ROBOTS)
        self.messages: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.faults = Faults()
        self.calls: dict[str, int] = {}
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.clock = clock
        self.timeout_delay = 5.0
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def expire_tokens(self) -> None:
        """Robots hold no expiring tokens (present so the combined app can expire every system)."""

    def within_rate(self, platform: str, robot: str) -> bool:
        """Count one message for this robot; False when it is over the per-window limit."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault((platform, robot), deque())
            while hits and hits[0] <= now - self.rate_window:
                hits.popleft()
            if len(hits) >= self.rate_limit:
                return False
            hits.append(now)
            return True

    def received(self, platform: str | None = None, robot: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages, optionally only one platform's or one robot's."""
        return [m for m in self.messages
                if (platform is None or m["platform"] == platform) and (robot is None or m["robot"] == robot)]


def _error(errcode: int, errmsg: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def create_app(*, rate_limit: int = 20, rate_window: float = 60.0,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """The WeCom and DingTalk robot endpoints on one app (mounted at ``/robots`` in the combined app)."""
    sim = RobotState(rate_limit, rate_window, clock)
    app = FastAPI(title="WeCom / DingTalk group-robot simulator")
    app.state.sim = sim

    async def injected(path: str) -> JSONResponse | None:
        sim.calls[path] = sim.calls.get(path, 0) + 1
        fault = sim.faults.take(path)
        if fault is None:
            return None
        if fault.code == "timeout":
            await asyncio.sleep(sim.timeout_delay)
            return _error(-1, "system busy (held past the client's timeout)")
        code = -1 if fault.code is None else int(fault.code)
        if 500 <= code <= 599:
            return JSONResponse({"errcode": -1, "errmsg": f"HTTP {code}"}, status_code=code)
        return _error(code, f"injected error {code}")

    def refuse(platform: str, robot: str, errcode: int, errmsg: str) -> JSONResponse:
        sim.rejected.append({"platform": platform, "robot": robot, "errcode": errcode})
        return _error(errcode, errmsg)

    @app.post(WECOM_PATH)
    async def wecom_send(request: Request) -> Any:
        if (fault := await injected(WECOM_PATH)) is not None:
            return fault
        key = request.query_params.get("key") or ""
        if key not in sim.wecom_keys:
            return refuse("wecom", key, WECOM_BAD_KEY, "invalid webhook url")
        body = await json_body(request)
        if not isinstance(body, dict):
            return refuse("wecom", key, WECOM_BAD_JSON, "body must be a JSON object")
        msgtype = body.get("msgtype")
        if msgtype not in WECOM_LIMITS:
            return refuse("wecom", key, WECOM_BAD_MSGTYPE, f"unsupported msgtype {msgtype!r}")
        content = (body.get(msgtype) or {}).get("content")
        if not isinstance(content, str) or not content:
            return refuse("wecom", key, WECOM_BAD_PARAMETER, f"{msgtype}.content is required")
        if len(content.encode()) > WECOM_LIMITS[msgtype]:
            return refuse("wecom", key, WECOM_BAD_PARAMETER, f"content exceeds {WECOM_LIMITS[msgtype]} bytes")
        if not sim.within_rate("wecom", key):
            return refuse("wecom", key, WECOM_RATE_LIMIT, "api freq out of limit")
        sim.messages.append({"platform": "wecom", "robot": key, "payload": body, "at": sim.clock()})
        return {"errcode": 0, "errmsg": "ok"}

    @app.post(DINGTALK_PATH)
    async def dingtalk_send(request: Request) -> Any:
        if (fault := await injected(DINGTALK_PATH)) is not None:
            return fault
        params = request.query_params
        token = params.get("access_token") or ""
        secret = sim.dingtalk_robots.get(token)
        if secret is None:
            return refuse("dingtalk", token, DINGTALK_BAD_TOKEN, "token is not exist")
        timestamp, sign = params.get("timestamp") or "", params.get("sign") or ""
        if not timestamp.isdigit() or abs(sim.clock() * 1000 - int(timestamp)) > DINGTALK_WINDOW_MS:
            return refuse("dingtalk", token, DINGTALK_BAD_SIGN, "timestamp is not within one hour")
        # Starlette already URL-decoded the query value: compare with the decoded signature.
        expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(sign, expected):
            return refuse("dingtalk", token, DINGTALK_BAD_SIGN, "sign not match")
        body = await json_body(request)
        if not isinstance(body, dict) or body.get("msgtype") not in DINGTALK_LIMITS:
            return refuse("dingtalk", token, DINGTALK_BAD_PAYLOAD, "missing or bad msgtype")
        msgtype = body["msgtype"]
        part = body.get(msgtype) or {}
        text = part.get("text") if msgtype == "markdown" else part.get("content")
        if not isinstance(text, str) or not text or (msgtype == "markdown" and not part.get("title")):
            return refuse("dingtalk", token, DINGTALK_BAD_PAYLOAD, f"{msgtype} content is required")
        if len(text.encode()) > DINGTALK_LIMITS[msgtype]:
            return refuse("dingtalk", token, DINGTALK_BAD_PAYLOAD, "content too long")
        if not sim.within_rate("dingtalk", token):
            return refuse("dingtalk", token, DINGTALK_RATE_LIMIT, "send too fast, exceed 20 times per minute")
        sim.messages.append({"platform": "dingtalk", "robot": token, "payload": body, "at": sim.clock()})
        return {"errcode": 0, "errmsg": "ok"}

    return app
