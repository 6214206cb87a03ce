"""Call budgets: a thread-safe sliding-window pacer shared by every stream of a tap process.

Vendors cap calls per endpoint and time window (Fenxiang: about 100 calls per 20 s per
endpoint, its token endpoint 10 a minute). A tap that fires until it is refused wastes its
retries inside the same window; the :class:`Pacer` instead waits until a slot frees, so the
hub itself never exceeds the vendor's limit.

A slot is taken when a call starts and counts from the moment the call *ends*: the vendor
sees the call somewhere in between, so counting from the end is the earliest time that is
certainly safe, whatever the network latency. Concurrent calls (U8 fetches documents a few at
a time) share the same windows.

Budgets are data: each vendor's ``vendor.yaml`` (section ``budgets``); the tap config may
replace them with ``rate_limits`` (same shape: ``name``, ``match``, ``max_calls``,
``window_seconds``, ``per_path``). Time spent waiting is kept (``waited_seconds``) and each
wait is logged at INFO as a ``METRIC:`` JSON line (metric ``budget_wait``) so progress can
report "budget waits".
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger("connectors.kit.pacing")


@dataclass(frozen=True)
class Budget:
    """At most ``max_calls`` per ``window_seconds`` for paths containing ``match``.

    ``per_path``: one window per distinct path (the vendor counts per endpoint); otherwise
    one window shared by every matching path.
    """

    name: str
    match: str
    max_calls: int
    window_seconds: float
    per_path: bool = False

    @classmethod
    def parse(cls, value: t.Mapping[str, t.Any]) -> Budget:
        """One budget from a mapping; a clear ValueError when it is malformed."""
        try:
            budget = cls(
                name=str(value.get("name") or value["match"]),
                match=str(value["match"]),
                max_calls=int(value["max_calls"]),
                window_seconds=float(value["window_seconds"]),
                per_path=bool(value.get("per_path", False)),
            )
        except (KeyError, TypeError, ValueError):
            msg = (
                f"rate limit {dict(value)!r} needs match (text), max_calls (>= 1) and "
                "window_seconds (> 0)"
            )
            raise ValueError(msg) from None
        if budget.max_calls < 1 or budget.window_seconds <= 0:
            msg = f"rate limit {budget.name}: max_calls must be >= 1 and window_seconds > 0"
            raise ValueError(msg)
        return budget


def budgets_from(
    defaults: t.Iterable[t.Mapping[str, t.Any]],
    override: t.Iterable[t.Mapping[str, t.Any]] | None = None,
) -> list[Budget]:
    """The budgets in force: the config's ``rate_limits`` when given, else the vendor's."""
    chosen = defaults if override is None else override
    return [Budget.parse(v) for v in chosen]


class SlidingWindow:
    """At most ``max_calls`` calls in any ``window`` seconds, counted from each call's end."""

    def __init__(self, max_calls: int, window: float) -> None:
        self.max_calls = max_calls
        self.window = window
        self._ends: dict[int, float | None] = {}  # slot -> end time (None: still running)
        self._ids = itertools.count()
        self._cond = threading.Condition()

    def acquire(self) -> tuple[int, float]:
        """Wait for a free slot; return ``(slot, seconds waited)``."""
        start = time.monotonic()
        with self._cond:
            while True:
                now = time.monotonic()
                horizon = now - self.window
                for slot, end in list(self._ends.items()):
                    if end is not None and end <= horizon:
                        del self._ends[slot]
                if len(self._ends) < self.max_calls:
                    slot = next(self._ids)
                    self._ends[slot] = None
                    return slot, now - start
                ended = [end for end in self._ends.values() if end is not None]
                # all slots busy with running calls: wait for one to end (notify)
                timeout = (min(ended) + self.window - now) if ended else None
                self._cond.wait(timeout=timeout if timeout is None else max(timeout, 0.001))

    def release(self, slot: int) -> None:
        """The call holding ``slot`` ended now: its slot frees one window later."""
        with self._cond:
            if slot in self._ends:
                self._ends[slot] = time.monotonic()
            self._cond.notify_all()

    def next_free_in(self) -> float:
        """Seconds until a slot frees (0: one is free now; inf: all held by running calls)."""
        with self._cond:
            now = time.monotonic()
            live = [end for end in self._ends.values() if end is None or end > now - self.window]
            if len(live) < self.max_calls:
                return 0.0
            ended = [end for end in live if end is not None]
            return (min(ended) + self.window - now) if ended else float("inf")

    @property
    def in_use(self) -> int:
        """Slots counted in the current window (running calls included)."""
        with self._cond:
            horizon = time.monotonic() - self.window
            return sum(1 for end in self._ends.values() if end is None or end > horizon)


class Pacer:
    """The call budgets of one source in one tap process (thread-safe).

    ``with pacer.slot(path): <make the call>`` waits, if needed, until every budget the path
    falls under has a free slot.
    """

    def __init__(self, budgets: t.Iterable[Budget], source: str = "source") -> None:
        self.budgets = list(budgets)
        self.source = source
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.waits = 0
        self.waited_seconds = 0.0

    def window(self, budget_name: str, path: str = "") -> SlidingWindow | None:
        """The window of one budget (``path`` for per-path budgets), if it was used."""
        budget = next((b for b in self.budgets if b.name == budget_name), None)
        if budget is None:
            return None
        with self._lock:
            return self._windows.get((budget.name, path if budget.per_path else ""))

    def _windows_for(self, path: str) -> list[tuple[Budget, SlidingWindow]]:
        found = []
        with self._lock:
            for budget in self.budgets:
                if budget.match not in path:
                    continue
                key = (budget.name, path if budget.per_path else "")
                window = self._windows.get(key)
                if window is None:
                    window = SlidingWindow(budget.max_calls, budget.window_seconds)
                    self._windows[key] = window
                found.append((budget, window))
        return found

    @contextmanager
    def slot(self, path: str) -> t.Iterator[float]:
        """Hold a slot of every matching budget for one call; yields the seconds waited."""
        held: list[tuple[SlidingWindow, int]] = []
        waited = 0.0
        try:
            for budget, window in self._windows_for(path):
                slot, wait = window.acquire()
                held.append((window, slot))
                if wait > 0.0005:
                    waited += wait
                    self._record_wait(budget, path, wait)
            with self._lock:
                self.calls += 1
            yield waited
        finally:
            for window, slot in held:
                window.release(slot)

    def _record_wait(self, budget: Budget, path: str, wait: float) -> None:
        with self._lock:
            self.waits += 1
            self.waited_seconds += wait
            total, count = self.waited_seconds, self.waits
        point = {
            "type": "timer",
            "metric": "budget_wait",
            "value": round(wait, 3),
            "tags": {
                "source": self.source,
                "budget": budget.name,
                "endpoint": path,
                "max_calls": budget.max_calls,
                "window_seconds": budget.window_seconds,
                "waits": count,
                "total_wait_seconds": round(total, 3),
            },
        }
        logger.info("METRIC: %s", json.dumps(point, ensure_ascii=False, separators=(",", ":")))
