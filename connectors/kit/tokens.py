"""Access tokens: a cache refreshed shortly before expiry, and the token-endpoint call.

Token endpoints are called outside singer-sdk's request machinery, but through the same
:class:`~connectors.kit.source.SourceKit` as data calls: the same pacer (token endpoints
allow only a few calls a minute), the same retry policy and the same vendor error table.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlparse

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from connectors.kit.errors import (
    ErrorTable,
    SourceConfigError,
    TokenInvalidError,
    one_line,
    scrub,
    strip_query_strings,
)
from connectors.kit.pacing import Pacer
from connectors.kit.retry import RetryPolicy

if t.TYPE_CHECKING:
    from connectors.kit.source import SourceKit

logger = logging.getLogger("connectors.kit.tokens")

DEFAULT_REQUEST_TIMEOUT = 60


@dataclass
class Token:
    """An access token plus whatever else the token endpoint returned."""

    value: str
    expires_at: float | None  # time.monotonic() based, None = never expires
    extras: dict[str, t.Any] = field(default_factory=dict)


class TokenCache:
    """Cache one access token; refresh before expiry; drop it on request.

    ``fetch`` performs the token call and returns ``(token, expires_in_seconds, extras)``.
    The token is refreshed when less than ``margin`` of its lifetime is left, where
    ``margin = min(300 s, 10 % of the lifetime)`` - so a 7200 s token is renewed 5 minutes
    early and the token endpoints' low rate limits are respected.
    """

    def __init__(
        self,
        fetch: t.Callable[[], tuple[str, float | None, dict[str, t.Any]]],
        *,
        name: str = "token",
    ) -> None:
        self._fetch = fetch
        self._name = name
        self._token: Token | None = None
        self._lock = threading.RLock()
        self.fetch_count = 0

    @staticmethod
    def _margin(expires_in: float) -> float:
        return min(300.0, expires_in * 0.1)

    def _is_fresh(self, token: Token | None) -> bool:
        if token is None:
            return False
        return token.expires_at is None or time.monotonic() < token.expires_at

    def get(self) -> Token:
        """Return a valid token, fetching a new one if needed."""
        with self._lock:
            if not self._is_fresh(self._token):
                value, expires_in, extras = self._fetch()
                self.fetch_count += 1
                expires_at = None
                if expires_in:
                    lifetime = float(expires_in)
                    expires_at = time.monotonic() + lifetime - self._margin(lifetime)
                self._token = Token(value=value, expires_at=expires_at, extras=extras)
                logger.info("Obtained a new %s (valid %ss).", self._name, expires_in)
            assert self._token is not None
            return self._token

    @property
    def current_value(self) -> str | None:
        """The cached token value, if any (without fetching)."""
        token = self._token
        return token.value if token is not None else None

    def invalidate(self, value: str | None = None) -> None:
        """Forget the cached token (only if it is ``value``, when given)."""
        with self._lock:
            if self._token is not None and (value is None or self._token.value == value):
                self._token = None


def token_lifetime(value: t.Any, default: float) -> float:
    """A token's lifetime in seconds; ``default`` when missing, zero or unreadable.

    A broken lifetime must not stop the run: the token is then renewed on the source's
    usual schedule (and on rejection anyway).
    """
    try:
        return float(value or default)
    except (TypeError, ValueError):
        return float(default)


def config_base_url(config: t.Mapping[str, t.Any]) -> str:
    """The config's ``base_url`` without a trailing slash (paths start with one)."""
    return str(config.get("base_url") or "").rstrip("/")


def fetch_json(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    params: dict[str, t.Any] | None = None,
    json_body: t.Any = None,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
    secrets: t.Iterable[t.Any] = (),
    errors: ErrorTable | None = None,
    classify: t.Callable[[dict[str, t.Any]], str | None] | None = None,
    on_http_error: t.Callable[[requests.Response], None] | None = None,
    pacer: Pacer | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, t.Any]:
    """One JSON call outside singer-sdk's machinery (token endpoints), paced and retried.

    With ``errors`` the vendor table decides (retry / rate / config / quota / fatal);
    ``classify`` then only checks a successful payload (raise to refuse it, return a reason
    string to retry). Without a table: 429/5xx and unreadable bodies are retried, other 4xx
    go to ``on_http_error`` and then fail. Messages never contain query strings or secrets.
    """
    secrets = [s for s in secrets if s]
    policy = policy or RetryPolicy()
    path = urlparse(url).path

    def attempt() -> dict[str, t.Any]:
        try:
            if pacer is not None:
                with pacer.slot(path):
                    response = session.request(method, url, params=params, json=json_body, timeout=timeout)
            else:
                response = session.request(method, url, params=params, json=json_body, timeout=timeout)
        except requests.exceptions.RequestException as exc:
            problem = scrub(strip_query_strings(f"{type(exc).__name__}: {exc}"), secrets)
            raise RetriableAPIError(one_line(f"{what}: {problem}", 400)) from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        payload = payload if isinstance(payload, dict) else None
        if errors is not None:
            verdict = errors.classify(payload, response.status_code)
            if not verdict.ok:
                raise errors.error(verdict, what, response, secrets)
        else:
            status = response.status_code
            if status == 429 or status >= 500:
                raise RetriableAPIError(f"{what}: HTTP {status}", response)
            if status >= 400:
                if on_http_error is not None:
                    on_http_error(response)
                body = one_line(scrub(response.text[:300], secrets), 300)
                raise FatalAPIError(f"{what} failed with HTTP {status}: {body}")
        if payload is None:
            raise RetriableAPIError(f"{what}: response is not a JSON object", response)
        reason = classify(payload) if classify else None
        if reason is not None:
            raise RetriableAPIError(f"{what}: {reason}", response)
        return payload

    return policy.call(attempt, what=what)


class TokenEndpoint:
    """A source's token endpoint bound to the tap config (and, given one, its kit).

    Holds what every token call of a run shares - one HTTP session, the base URL, the secret
    values to keep out of messages, and the kit's pacer, retry policy and error table. The
    protocol (path, parameters, which payloads are good) stays with the caller.
    """

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        secret_keys: t.Iterable[str],
        kit: SourceKit | None = None,
    ) -> None:
        self.config = config
        self.kit = kit
        self.session = requests.Session()
        self.base_url = config_base_url(config)
        self.secrets = [config.get(k) for k in secret_keys]

    def fetch(self, method: str, path: str, *, what: str, **kwargs: t.Any) -> dict[str, t.Any]:
        """:func:`fetch_json` on ``base_url + path`` with the kit (or config) settings."""
        kit = self.kit
        timeout = float(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)
        if kit is not None:  # the error table is the caller's choice (``errors=``)
            kwargs.setdefault("pacer", kit.pacer)
            kwargs.setdefault("policy", kit.retry)
        else:
            kwargs.setdefault("policy", RetryPolicy.from_config(self.config))
        try:
            return fetch_json(
                self.session,
                method,
                self.base_url + path,
                what=what,
                secrets=self.secrets,
                timeout=timeout,
                **kwargs,
            )
        except TokenInvalidError as exc:  # "bad token" from the token endpoint: the credentials
            raise SourceConfigError(f"{exc}; check the credentials in the tap config") from None
