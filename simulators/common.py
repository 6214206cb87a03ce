"""Pieces every simulator shares: token registry, fault injection, call counting, rate limits.

Each system app keeps one :class:`SimState` at ``app.state.sim``:

- ``sim.tokens``: issued tokens. ``sim.expire_tokens()`` makes every issued token expired
  (the next call gets the system's "token expired" error, so refresh-and-retry paths can be
  tested); ``sim.tokens.ttl`` (seconds) sets the lifetime of tokens issued from then on.
- ``sim.faults.inject(count=1, code=None, path=None)``: the next ``count`` calls whose path
  contains ``path`` (every call when None) fail with the system's busy/limit error ``code``
  (the system's default when None). See each system module for what ``code`` means there.
- ``sim.calls``: a Counter of calls per path (relative to the system's mount), e.g. to check
  that a connector caches its token.
"""

from __future__ import annotations

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


@dataclass
class _Fault:
    remaining: int
    code: Any
    path: str | None


class Faults:
    """Queued failures: a test asks for the next N matching calls to fail."""

    def __init__(self) -> None:
        self._queue: list[_Fault] = []
        self._lock = threading.Lock()

    def inject(self, count: int = 1, code: Any = None, path: str | None = None) -> None:
        with self._lock:
            self._queue.append(_Fault(count, code, path))

    def take(self, path: str) -> _Fault | None:
        """Consume one failure for this call, if one is queued for its path."""
        with self._lock:
            for fault in self._queue:
                if fault.path is None or fault.path in path:
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
    """At most ``max_calls`` per ``window`` seconds for paths containing ``path`` (per path and
    per ``key`` query parameter, e.g. one budget per webhook robot); beyond: error ``code``."""

    path: str
    max_calls: int
    window: float
    code: Any


class RateLimiter:
    def __init__(self, rules: list[RateRule]) -> None:
        self.rules = rules
        self._hits: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, path: str, key: str) -> RateRule | None:
        """Record a call; return the rule it breaks, if any."""
        now = time.monotonic()
        with self._lock:
            for rule in self.rules:
                if rule.path not in path:
                    continue
                hits = self._hits.setdefault((rule.path, path, key), deque())
                while hits and hits[0] <= now - rule.window:
                    hits.popleft()
                if len(hits) >= rule.max_calls:
                    return rule
                hits.append(now)
        return None


class SimState:
    """Mutable per-system state reachable by tests as ``app.state.sim``."""

    def __init__(self, token_ttl: float = 7200, rate_rules: list[RateRule] | None = None) -> None:
        self.tokens = TokenRegistry(token_ttl)
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
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


class GuardMiddleware:
    """Counts calls and answers injected faults and rate-limit breaches before the routes run.

    ``error_response(code)`` builds the system's own busy/limit reply; ``code`` None means
    the system's default busy error.
    """

    def __init__(
        self, app: ASGIApp, sim: SimState, error_response: Callable[[Any], Response]
    ) -> None:
        self.app = app
        self.sim = sim
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = relative_path(scope)
        self.sim.calls[path] += 1
        fault = self.sim.faults.take(path)
        code: Any = fault.code if fault else None
        broken = fault is not None
        if not broken and self.sim.limiter is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            rule = self.sim.limiter.check(path, (query.get("key") or [""])[0])
            if rule is not None:
                broken, code = True, rule.code
        if broken:
            await self.error_response(code)(scope, receive, send)
            return
        await self.app(scope, receive, send)


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
