"""The one retry policy of the hub's taps (tenacity).

- Retries what is transient: :class:`~singer_sdk.exceptions.RetriableAPIError` (vendor busy /
  timeout codes, HTTP 5xx, unreadable bodies), :class:`~.errors.RateLimitedError` (HTTP 429,
  vendor rate codes), connection errors, resets and timeouts. Everything else (bad
  credentials, quota, unknown codes) fails at once.
- Honours ``Retry-After`` (delta seconds or an HTTP-date): the wait is at least that long.
- Works to a time budget (config ``retry_budget_seconds``), not a fixed count: a retry whose
  wait would end past the budget is not attempted and the last error is raised, so a rate
  limit with a 20 s window is waited out instead of being hammered five times in a second.
  ``max_tries`` (optional) still caps the count.
- Backoff between attempts: ``backoff_factor * 2**(n-1)`` seconds plus up to 25 % jitter,
  capped at ``max_backoff_seconds``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
import tenacity
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from connectors.kit.errors import RateLimitedError, one_line

logger = logging.getLogger("connectors.kit.retry")

T = t.TypeVar("T")

#: Exceptions worth another attempt.
RETRIABLE: tuple[type[BaseException], ...] = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class RetriesExhaustedError(FatalAPIError):
    """A transient error outlasted the retry budget: the source stops with the last error."""


def retry_after_seconds(response: requests.Response | None, now: float | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or HTTP-date); None if absent/bad."""
    if response is None:
        return None
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def _response_of(exc: BaseException | None) -> requests.Response | None:
    response = getattr(exc, "response", None)
    return response if isinstance(response, requests.Response) else None


@dataclass
class RetryPolicy:
    """How one source retries (see the module docstring)."""

    budget_seconds: float = 300.0
    backoff_factor: float = 1.0
    max_backoff_seconds: float = 30.0
    max_tries: int | None = None
    sleep: t.Callable[[float], None] = time.sleep

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], defaults: t.Mapping[str, t.Any] | None = None
    ) -> RetryPolicy:
        """Config knobs (``retry_budget_seconds``, ``backoff_factor``, ``max_tries``) over
        the vendor's defaults (``retry`` section of its ``vendor.yaml``)."""
        defaults = defaults or {}

        def pick(key: str, default_key: str, fallback: float) -> float:
            value = config.get(key)
            if value is None:
                value = defaults.get(default_key, fallback)
            return float(value)

        max_tries = config.get("max_tries")
        return cls(
            budget_seconds=pick("retry_budget_seconds", "budget_seconds", 300.0),
            backoff_factor=pick("backoff_factor", "backoff_factor", 1.0),
            max_backoff_seconds=pick("max_backoff_seconds", "max_backoff_seconds", 30.0),
            max_tries=int(max_tries) if max_tries else None,
        )

    # ---- tenacity hooks
    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = self.backoff_factor * (2 ** (state.attempt_number - 1))
        backoff = min(backoff + random.uniform(0, backoff * 0.25), self.max_backoff_seconds)
        after = retry_after_seconds(_response_of(exc))
        if after is not None:
            return after  # the vendor said when: no earlier, and no need to add backoff
        if isinstance(exc, RateLimitedError):
            return max(backoff, self.backoff_factor)
        return backoff

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        if self.max_tries is not None and state.attempt_number >= self.max_tries:
            return True
        return state.seconds_since_start + (state.upcoming_sleep or 0.0) > self.budget_seconds

    def retrying(self, what: str = "call") -> tenacity.Retrying:
        """The tenacity controller of this policy for calls named ``what``.

        Its per-call state is thread-local (tenacity), so one controller serves every thread;
        ``sleep`` and the budget are read at each call, so a policy changed later still counts."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.warning(
                "%s: %s; retrying in %.2f s (attempt %d, %.1f s of a %.0f s budget used).",
                what,
                one_line(f"{type(exc).__name__}: {exc}", 300),
                state.upcoming_sleep,
                state.attempt_number + 1,
                state.seconds_since_start,
                self.budget_seconds,
            )

        def give_up(state: tenacity.RetryCallState) -> t.NoReturn:
            exc = state.outcome.exception() if state.outcome else None
            msg = one_line(
                f"{what} failed after {state.attempt_number} attempts in "
                f"{state.seconds_since_start:.1f} s (retry budget {self.budget_seconds:.0f} s): {exc}",
                500,
            )
            raise RetriesExhaustedError(msg) from exc

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RETRIABLE),
            wait=self._wait,
            stop=self._stop,
            sleep=lambda seconds: self.sleep(seconds),
            before_sleep=before_sleep,
            retry_error_callback=give_up,
        )

    def call(self, func: t.Callable[..., T], *args: t.Any, what: str = "call", **kwargs: t.Any) -> T:
        """``func(*args, **kwargs)`` with retries; :class:`RetriesExhaustedError` (chained to
        the last error) when the budget is spent. Non-retriable errors pass straight through."""
        return self.retrying(what)(func, *args, **kwargs)

    def decorate(self, func: t.Callable[..., T], what: str = "call") -> t.Callable[..., T]:
        """``func`` wrapped with :meth:`call`; the controller is built once, not per call (a
        per-document call path makes that construction a visible share of the tap's CPU).

        One thread must not re-enter the same wrapper from inside ``func`` (tenacity keeps one
        attempt state per thread and controller); distinct wrappers may nest freely."""
        retrying = self.retrying(what)

        def wrapper(*args: t.Any, **kwargs: t.Any) -> T:
            return retrying(func, *args, **kwargs)

        return wrapper
