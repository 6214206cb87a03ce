"""Shared plumbing for the hub's Singer taps (singer-sdk 0.54).

Everything here is source-agnostic:

* error classes that tell a *configuration* problem (fail fast, clear message,
  never the secret) from a *transient* one (retry with backoff);
* :class:`TokenCache` - a cached access token, refreshed shortly before it
  expires and dropped on demand when the source says it is invalid;
* :class:`TokenEndpoint` and :func:`token_lifetime` - the config-bound plumbing of
  a token call; the source keeps its protocol (path, parameters, error codes);
* :class:`CachedTokenAuthenticator` - puts the cached token on every request;
* :func:`fetch_json` - a small retrying HTTP helper for token endpoints (they are
  called outside singer-sdk's request machinery), tuned by :func:`fetch_tuning`;
* :class:`HubTap` - a ``Tap`` whose streams share one :class:`TokenCache`;
* :class:`HubRESTStream` - a ``RESTStream`` base with the behaviour every hub tap
  shares: records are emitted exactly as the API returned them (no type
  conformance, unknown/custom fields kept), retries with bounded exponential
  backoff, "refresh the token once and retry" on a token-invalid error, and
  bookmarks that tolerate records without (or with a malformed) replication key;
* JSON-schema helpers for loose, additive record schemas.

Nothing in here may import from the rest of the project.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import logging
import random
import re
import threading
import time
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlparse

import backoff
import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

__all__ = [
    "CachedTokenAuthenticator",
    "HubRESTStream",
    "HubTap",
    "QueryTokenAuthenticator",
    "SourceConfigError",
    "SourceQuotaError",
    "TokenCache",
    "TokenEndpoint",
    "TokenInvalidError",
    "base_url_property",
    "config_base_url",
    "fetch_json",
    "fetch_tuning",
    "int_code",
    "is_int_value",
    "iso_to_epoch_ms",
    "loose_object",
    "prop",
    "response_json",
    "scrub",
    "strip_query_strings",
    "token_lifetime",
    "tuning_properties",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- errors


class SourceConfigError(FatalAPIError):
    """The source rejected our configuration (bad secret, unknown tenant, ...).

    Never retried. The message names the config keys to check, never their values.
    """


class SourceQuotaError(FatalAPIError):
    """A quota is exhausted (e.g. the daily call quota): stop and report."""


class TokenInvalidError(FatalAPIError):
    """The access token was rejected (missing / expired / revoked).

    :class:`HubRESTStream` catches it once per request, refreshes the token and
    replays the request; a second rejection is fatal.
    """


def scrub(text: str, secrets: t.Iterable[str | None]) -> str:
    """Replace every secret value occurring in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(str(secret)) >= 4:  # noqa: PLR2004
            text = text.replace(str(secret), "***")
    return text


_URL_QUERY_RE = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\")]*")
_PATH_QUERY_RE = re.compile(r"(url: /[^\s'\"?]*)\?[^\s'\")]*")


def strip_query_strings(text: str) -> str:
    """Drop query strings from URLs in a message (they may carry credentials)."""
    text = _URL_QUERY_RE.sub(r"\1?<redacted>", text)
    return _PATH_QUERY_RE.sub(r"\1?<redacted>", text)


def int_code(payload: t.Any, key: str) -> int | None:  # noqa: ANN401
    """``payload[key]`` as an int (tolerates numeric strings); None when absent/odd."""
    if not isinstance(payload, dict):
        return None
    code = payload.get(key)
    if isinstance(code, bool):
        return None
    try:
        return int(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- config

#: Defaults of the tuning knobs (:func:`tuning_properties`).
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_MAX_TRIES = 5
DEFAULT_BACKOFF_FACTOR = 1.0


def config_base_url(config: t.Mapping[str, t.Any]) -> str:
    """The config's ``base_url`` without a trailing slash (paths start with one)."""
    return str(config.get("base_url") or "").rstrip("/")


def fetch_tuning(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The config's tuning knobs as :func:`fetch_json` keyword arguments."""
    factor = config.get("backoff_factor")
    return {
        "timeout": float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT),
        "max_tries": int(config.get("max_tries") or DEFAULT_MAX_TRIES),
        # 0 is a meaningful factor (retry without waiting): only a missing one defaults
        "backoff_factor": DEFAULT_BACKOFF_FACTOR if factor is None else float(factor),
    }


# --------------------------------------------------------------------------- tokens


@dataclass
class Token:
    """An access token plus whatever else the token endpoint returned."""

    value: str
    expires_at: float | None  # time.monotonic() based, None = never expires
    extras: dict[str, t.Any] = field(default_factory=dict)


class TokenCache:
    """Cache one access token; refresh before expiry; drop it on request.

    ``fetch`` performs the token call and returns ``(token, expires_in_seconds,
    extras)``. The token is refreshed when less than ``margin`` of its lifetime is
    left, where ``margin = min(300 s, 10 % of the lifetime)`` - so a 7200 s token is
    renewed 5 minutes early and the token endpoints' low rate limits are respected.
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
            assert self._token is not None  # noqa: S101
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


def token_lifetime(value: t.Any, default: float) -> float:  # noqa: ANN401
    """A token's lifetime in seconds; ``default`` when missing, zero or unreadable.

    A broken lifetime must not stop the run: the token is then renewed on the source's
    usual schedule (and on rejection anyway).
    """
    try:
        return float(value or default)
    except (TypeError, ValueError):
        return float(default)


class TokenEndpoint:
    """A source's token endpoint bound to the tap config.

    Holds what every token call of a run shares - one HTTP session, the base URL and
    the secret values to keep out of messages. The protocol (path, parameters, which
    payloads are good) stays with the caller.
    """

    def __init__(self, config: t.Mapping[str, t.Any], secret_keys: t.Iterable[str]) -> None:
        self.config = config
        self.session = requests.Session()
        self.base_url = config_base_url(config)
        self.secrets = [config.get(k) for k in secret_keys]

    def fetch(self, method: str, path: str, *, what: str, **kwargs: t.Any) -> dict[str, t.Any]:
        """:func:`fetch_json` on ``base_url + path`` with the config's tuning knobs."""
        return fetch_json(
            self.session,
            method,
            self.base_url + path,
            what=what,
            secrets=self.secrets,
            **fetch_tuning(self.config),
            **kwargs,
        )


class CachedTokenAuthenticator(APIAuthenticatorBase):
    """Base for authenticators that take the token from a :class:`TokenCache`.

    Subclasses read the token on every send (not once), so a request replayed after
    a refresh carries the new token.
    """

    def __init__(self, token_cache: TokenCache) -> None:
        super().__init__()
        self.token_cache = token_cache


class QueryTokenAuthenticator(CachedTokenAuthenticator):
    """The current token as the query parameter ``param``."""

    param: t.ClassVar[str]

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        self.auth_params = {self.param: self.token_cache.get().value}
        return super().authenticate_request(request)


# --------------------------------------------------------------------------- http


def _sleep_backoff(attempt: int, factor: float) -> None:
    wait = factor * (2 ** (attempt - 1))
    time.sleep(wait + random.uniform(0, wait * 0.25))  # noqa: S311


def fetch_json(  # noqa: PLR0913
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    params: dict[str, t.Any] | None = None,
    json_body: t.Any = None,  # noqa: ANN401
    timeout: float = 60,
    max_tries: int = 5,
    backoff_factor: float = 1.0,
    secrets: t.Iterable[str | None] = (),
    classify: t.Callable[[dict[str, t.Any]], str | None] | None = None,
    on_http_error: t.Callable[[requests.Response], None] | None = None,
) -> dict[str, t.Any]:
    """Call an endpoint outside singer-sdk's machinery (token endpoints).

    Retries connection errors, timeouts, HTTP 429/5xx, non-JSON bodies and every
    payload for which ``classify`` returns a reason string; ``classify`` raises for
    fatal payloads and returns ``None`` when the payload is good. Error messages
    never contain query strings or secret values.
    """
    secrets = list(secrets)
    last_problem = ""
    for attempt in range(1, max_tries + 1):
        try:
            response = session.request(
                method, url, params=params, json=json_body, timeout=timeout
            )
        except requests.exceptions.RequestException as exc:
            last_problem = scrub(
                strip_query_strings(f"{type(exc).__name__}: {exc}"), secrets
            )
        else:
            status = response.status_code
            if status == 429 or status >= 500:  # noqa: PLR2004
                last_problem = f"HTTP {status}"
            elif status >= 400:  # noqa: PLR2004
                if on_http_error is not None:
                    on_http_error(response)
                body = scrub(response.text[:300], secrets)
                msg = f"{what} failed with HTTP {status}: {body}"
                raise FatalAPIError(msg)
            else:
                try:
                    payload = response.json()
                except ValueError:
                    last_problem = "response is not JSON"
                else:
                    if not isinstance(payload, dict):
                        last_problem = "response is not a JSON object"
                    else:
                        reason = classify(payload) if classify else None
                        if reason is None:
                            return payload
                        last_problem = reason
        if attempt < max_tries:
            logger.warning(
                "%s: %s; retrying (attempt %d of %d).",
                what,
                last_problem,
                attempt + 1,
                max_tries,
            )
            _sleep_backoff(attempt, backoff_factor)
    msg = f"{what} failed after {max_tries} attempts: {last_problem}"
    raise FatalAPIError(msg)


def response_json(response: requests.Response) -> t.Any:  # noqa: ANN401
    """Parse (once) and cache a response's JSON; floats become ``Decimal``.

    Decimals keep the exact digits the API sent (``123.40`` stays ``123.40``) and
    singer-sdk's writer serialises them unchanged.
    """
    cached = getattr(response, "_hub_json", None)
    if cached is None:
        cached = response.json(parse_float=decimal.Decimal)
        response._hub_json = cached  # type: ignore[attr-defined]  # noqa: SLF001
    return cached


# --------------------------------------------------------------------------- dates


def iso_to_epoch_ms(value: str) -> int:
    """``2026-01-01`` / ``2026-01-01T08:00:00+08:00`` -> epoch milliseconds (UTC if naive)."""
    text = value.strip().replace("Z", "+00:00")
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return int(parsed.timestamp() * 1000)


# --------------------------------------------------------------------------- schemas


def prop(
    *types: str,
    fmt: str | None = None,
    items: dict[str, t.Any] | None = None,
    properties: dict[str, t.Any] | None = None,
    description: str | None = None,
) -> dict[str, t.Any]:
    """One JSON-schema property; ``null`` is always allowed (sources omit/blank fields)."""
    type_list = list(types)
    if "null" not in type_list:
        type_list.append("null")
    result: dict[str, t.Any] = {"type": type_list}
    if fmt:
        result["format"] = fmt
    if items is not None:
        result["items"] = items
    if properties is not None:
        result["properties"] = properties
        result["additionalProperties"] = True
    if description:
        result["description"] = description
    return result


def loose_object(properties: dict[str, t.Any], description: str | None = None) -> dict:
    """A record schema that declares ``properties`` and allows any other field.

    ``additionalProperties: true`` is what makes tenant custom fields (``*__c``)
    and undocumented API fields survive; :class:`HubRESTStream` additionally turns
    singer-sdk's type conformance off so values are never rewritten.
    """
    schema: dict[str, t.Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
    }
    if description:
        schema["description"] = description
    return schema


def base_url_property(
    default: str | None = None, description: str = "API base URL."
) -> th.Property:
    """The ``base_url`` setting (see :func:`config_base_url`); required without a default."""
    return th.Property(
        "base_url",
        th.StringType,
        required=default is None,
        default=default,
        description=description,
    )


def tuning_properties() -> list[th.Property]:
    """Config knobs every hub tap accepts (all optional)."""
    return [
        th.Property(
            "request_timeout",
            th.NumberType,
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds before an HTTP request times out.",
        ),
        th.Property(
            "max_tries",
            th.IntegerType(minimum=1),
            default=DEFAULT_MAX_TRIES,
            description="Attempts per request for busy / rate-limit / 5xx errors.",
        ),
        th.Property(
            "backoff_factor",
            th.NumberType(minimum=0),
            default=DEFAULT_BACKOFF_FACTOR,
            description="Base of the exponential backoff in seconds (1, 2, 4, ...).",
        ),
    ]


# --------------------------------------------------------------------------- taps


class HubTap(Tap):
    """A ``Tap`` whose streams share one :class:`TokenCache`.

    Token endpoints allow only a few calls a minute, so a run fetches one token and
    renews it only shortly before it expires.
    """

    #: The source's ``make_token_cache(config)``. Read from the class, so a plain
    #: function stays unbound.
    token_cache_factory: t.ClassVar[t.Callable[[t.Mapping[str, t.Any]], TokenCache]]

    @cached_property
    def token_cache(self) -> TokenCache:
        """One token for every stream of this run."""
        return type(self).token_cache_factory(self.config)


# --------------------------------------------------------------------------- streams


class HubRESTStream(RESTStream):
    """``RESTStream`` with the hub's conventions (see module docstring).

    Subclasses provide ``secret_config_keys``, an ``authenticator`` reading the tap's
    ``token_cache`` (see :class:`HubTap`) and a ``check_payload(payload, response)``
    that raises for API-level errors.
    """

    #: Emit records exactly as the API returned them: singer-sdk must neither drop
    #: unknown properties nor coerce values (e.g. ``0``/``1`` into booleans).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    secret_config_keys: t.ClassVar[tuple[str, ...]] = ()

    # ---- config-driven
    @property
    def url_base(self) -> str:
        return config_base_url(self.config)

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)

    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        factor = self.config.get("backoff_factor")
        return backoff.expo(factor=DEFAULT_BACKOFF_FACTOR if factor is None else float(factor))

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_tries") or DEFAULT_MAX_TRIES)

    def backoff_jitter(self, value: float) -> float:  # noqa: PLR6301
        return value + random.uniform(0, value * 0.25)  # noqa: S311

    # ---- secrets
    @property
    def secrets(self) -> list[str]:
        values = [self.config.get(k) for k in self.secret_config_keys]
        cache = getattr(self._tap, "token_cache", None)
        if isinstance(cache, TokenCache) and cache.current_value:
            values.append(cache.current_value)
        return [str(v) for v in values if v]

    def response_error_message(self, response: requests.Response) -> str:
        """Status, path (never the query string) and a short, scrubbed body."""
        path = urlparse(response.url).path or self.path
        body = scrub((response.text or "")[:500], self.secrets)
        return f"HTTP {response.status_code} {response.reason} for path {path}: {body}"

    # ---- responses
    def response_json(self, response: requests.Response) -> t.Any:  # noqa: PLR6301, ANN401
        return response_json(response)

    def check_payload(self, payload: t.Any, response: requests.Response) -> None:  # noqa: ANN401
        """Raise for API-level errors carried in a 200 response body."""

    def validate_response(self, response: requests.Response) -> None:
        super().validate_response(response)
        try:
            payload = self.response_json(response)
        except ValueError as exc:
            msg = (
                f"{self.name}: response from {urlparse(response.url).path}"
                " is not JSON"
            )
            raise RetriableAPIError(msg, response) from exc
        self.check_payload(payload, response)

    def _request(
        self,
        prepared_request: requests.PreparedRequest,
        context: Context | None,
    ) -> requests.Response:
        """Send; on a token-invalid answer refresh the token once and replay."""
        try:
            return super()._request(prepared_request, context)
        except TokenInvalidError as first:
            self.logger.warning(
                "%s: access token rejected (%s); refreshing it and retrying once.",
                self.name,
                first,
            )
            self._tap.token_cache.invalidate()
            try:
                return super()._request(prepared_request, context)
            except TokenInvalidError as second:
                msg = (
                    f"{self.name}: the source rejected a freshly issued access token "
                    f"({second}); check the credentials' permissions."
                )
                raise SourceConfigError(msg) from None

    def call_api(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, t.Any] | None = None,
        json_body: t.Any = None,  # noqa: ANN401
        context: Context | None = None,
    ) -> t.Any:  # noqa: ANN401
        """One ad-hoc call through the same auth / retry / error machinery."""
        prepared = self.build_prepared_request(
            method=method,
            url=self.url_base + path,
            params=params or {},
            headers=self.http_headers,
            json=json_body,
        )
        decorated = self.request_decorator(self._request)
        response = decorated(prepared, context)
        return self.response_json(response)

    # ---- bookmarks
    def is_valid_bookmark_value(self, value: t.Any) -> bool:  # noqa: ANN401, PLR6301
        """Whether a record's replication-key value may advance the bookmark."""
        return value is not None

    def _increment_stream_state(
        self,
        latest_record: Record,
        *,
        context: Context | None = None,
    ) -> None:
        """Advance the bookmark only from records with a usable replication value.

        A record without the replication key (e.g. ``PersonnelObj`` in some tenants)
        or with a malformed value is still emitted - it just cannot move the
        bookmark. (singer-sdk itself would raise ``KeyError``/``TypeError``.)
        """
        if self.replication_key:
            value = latest_record.get(self.replication_key)
            if not self.is_valid_bookmark_value(value):
                if value is not None:
                    self.logger.warning(
                        "%s: record has an unusable %s value %r; "
                        "it is emitted but does not advance the bookmark.",
                        self.name,
                        self.replication_key,
                        value,
                    )
                return
        super()._increment_stream_state(latest_record, context=context)


def is_int_value(value: t.Any) -> bool:  # noqa: ANN401
    """True for real JSON integers (not bools, not floats, not numeric strings)."""
    return isinstance(value, int) and not isinstance(value, bool)
