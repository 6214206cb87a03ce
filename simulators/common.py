"""Pieces every simulator shares: token registry, fault injection, call counting, rate limits.

Each system app keeps one :class:`SimState` at ``app.state.sim``:

- ``sim.tokens``: issued tokens. ``sim.expire_tokens()`` makes every issued token expired
  (the next call gets the system's "token expired" error, so refresh-and-retry paths can be
  tested); ``sim.tokens.ttl`` (seconds) sets the lifetime of tokens issued from then on.
- ``sim.faults.inject(count=1, code=None, path=None, *, kind="error", skip=0, ...)``: the next
  ``count`` calls whose path contains ``path`` (every call when None), after letting ``skip``
  of them through, are disturbed. Kinds:

  - ``error``: the system's own error reply with ``code`` (the system's default busy error
    when None; see each system module for what ``code`` means there). ``status`` forces the
    HTTP status, ``retry_after`` adds a ``Retry-After`` header (seconds or an HTTP-date);
  - ``http``: a bare HTTP ``status`` (default 503) with a plain-text body, as a gateway would
    send (``retry_after`` as above) - e.g. ``status=429, retry_after="1"``;
  - ``slow``: the call is answered normally after ``delay`` seconds;
  - ``reset``: the connection breaks mid-response (headers and a few body bytes, then gone);
  - ``truncate``: the normal reply with its body cut in half (valid HTTP, broken JSON);
  - ``expire_token``: every issued token expires just before this call is served, so it
    gets the system's "token expired" error (token expiry mid-sync).
- ``sim.calls``: a Counter of calls per path (relative to the system's mount), e.g. to check
  that a connector caches its token; ``sim.rejections``: calls refused by a rate limit.
- Rate limits (``RateRule``): at most ``max_calls`` per sliding ``window`` seconds; a call
  beyond gets the system's limit reply (with ``Retry-After`` when the system sends one).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class TokenRegistry:
    """Random tokens with an expiry.

    Expired tokens stay known so that "expired" can be told apart from "invalid".
    """

    def __init__(self, ttl: float = 7200) -> None:
        self.ttl = ttl
        self._tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def expires_in(self) -> int:
        """The lifetime to report to clients, in whole seconds."""
        return max(1, math.ceil(self.ttl))

    def issue(self, **claims: Any) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (time.monotonic() + self.ttl, claims)
        return token

    def check(self, token: str | None) -> tuple[str, dict[str, Any]]:
        """Return ("ok" | "expired" | "unknown", claims)."""
        with self._lock:
            entry = self._tokens.get(token or "")
        if entry is None:
            return "unknown", {}
        expires_at, claims = entry
        return ("ok" if time.monotonic() < expires_at else "expired"), claims

    def expire_all(self) -> None:
        with self._lock:
            past = time.monotonic() - 1
            self._tokens = {t: (past, c) for t, (_, c) in self._tokens.items()}


FAULT_KINDS = ("error", "http", "slow", "reset", "truncate", "expire_token")


@dataclass
class _Fault:
    remaining: int
    code: Any
    path: str | None
    kind: str = "error"
    skip: int = 0
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0


class Faults:
    """Queued failures: a test asks for the next N matching calls to fail (see module doc)."""

    def __init__(self) -> None:
        self._queue: list[_Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        count: int = 1,
        code: Any = None,
        path: str | None = None,
        *,
        kind: str = "error",
        skip: int = 0,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float = 0.0,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
        after = None if retry_after is None else str(retry_after)
        with self._lock:
            self._queue.append(_Fault(count, code, path, kind, skip, status, after, delay))

    def take(self, path: str) -> _Fault | None:
        """Consume one failure for this call, if one is queued for its path."""
        with self._lock:
            for fault in self._queue:
                if fault.path is None or fault.path in path:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._queue.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass(frozen=True)
class RateRule:
    """At most ``max_calls`` per ``window`` seconds for paths containing ``path``; beyond: error
    ``code``. Counted per path (``per_path``, the default: one budget per endpoint) or shared by
    every matching path, and per ``key`` query parameter (e.g. one budget per webhook robot)."""

    path: str
    max_calls: int
    window: float
    code: Any
    per_path: bool = True


class RateLimiter:
    """Sliding-window limits; records the calls it lets through."""

    def __init__(self, rules: list[RateRule]) -> None:
        self.rules = rules
        self._hits: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, path: str, key: str) -> tuple[RateRule, float] | None:
        """Record a call; return the rule it breaks and the seconds until a slot frees."""
        now = time.monotonic()
        with self._lock:
            matching = []
            for rule in self.rules:
                if rule.path not in path:
                    continue
                hits = self._hits.setdefault(
                    (rule.path, path if rule.per_path else "", key), deque()
                )
                while hits and hits[0] <= now - rule.window:
                    hits.popleft()
                if len(hits) >= rule.max_calls:
                    return rule, max(0.0, hits[0] + rule.window - now)
                matching.append(hits)
            for hits in matching:
                hits.append(now)
        return None


class SimState:
    """Mutable per-system state reachable by tests as ``app.state.sim``."""

    def __init__(self, token_ttl: float = 7200, rate_rules: list[RateRule] | None = None) -> None:
        self.tokens = TokenRegistry(token_ttl)
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.limiter = RateLimiter(rate_rules) if rate_rules else None

    def expire_tokens(self) -> None:
        self.tokens.expire_all()


def relative_path(scope: Scope) -> str:
    """The request path below the system's mount point (``/crm/cgi/x`` -> ``/cgi/x``)."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path or "/"


def _with_retry_after(response: Response, retry_after: str | None) -> Response:
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


class GuardMiddleware:
    """Counts calls and answers injected faults and rate-limit breaches before the routes run.

    ``error_response(code)`` builds the system's own busy/limit reply; ``code`` None means
    the system's default busy error. ``limit_retry_after``: whether the system's limit reply
    carries ``Retry-After`` (HTTP 429 style) - vendors that answer with a body code do not.
    """

    def __init__(
        self,
        app: ASGIApp,
        sim: SimState,
        error_response: Callable[[Any], Response],
        limit_retry_after: bool = False,
    ) -> None:
        self.app = app
        self.sim = sim
        self.error_response = error_response
        self.limit_retry_after = limit_retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = relative_path(scope)
        self.sim.calls[path] += 1
        fault = self.sim.faults.take(path)
        if fault is not None:
            await self._disturb(fault, scope, receive, send)
            return
        if self.sim.limiter is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            broken = self.sim.limiter.check(path, (query.get("key") or [""])[0])
            if broken is not None:
                rule, wait = broken
                self.sim.rejections[path] += 1
                response = self.error_response(rule.code)
                if self.limit_retry_after:
                    _with_retry_after(response, str(max(1, math.ceil(wait))))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _disturb(self, fault: _Fault, scope: Scope, receive: Receive, send: Send) -> None:
        kind = fault.kind
        if kind == "error":
            response = self.error_response(fault.code)
            if fault.status is not None:
                response.status_code = fault.status
            await _with_retry_after(response, fault.retry_after)(scope, receive, send)
        elif kind == "http":
            status = fault.status or 503
            response = Response(f"HTTP {status} from the gateway", status, media_type="text/plain")
            await _with_retry_after(response, fault.retry_after)(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
        elif kind == "reset":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            raise ConnectionResetError("simulated connection reset")
        elif kind == "truncate":
            await self.app(scope, receive, _truncating(send))
        else:  # expire_token
            self.sim.expire_tokens()
            await self.app(scope, receive, send)


def _truncating(send: Send) -> Send:
    """A ``send`` that delivers the reply with its body cut in half (and a matching length)."""
    start: dict[str, Any] = {}
    body = bytearray()

    async def cut(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body"):
            return
        kept = bytes(body[: len(body) // 2])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(kept)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": kept})

    return cut


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or None when it is missing or not JSON."""
    try:
        return await request.json()
    except ValueError:
        return None


def is_int(value: Any) -> bool:
    """A JSON integer (bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_positive_int(text: str | None, default: int) -> int | None:
    """A query-string integer >= 1 (default when absent); None when malformed."""
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 1 else None
