"""Shared plumbing for the hub's Singer taps (singer-sdk 0.54).

Source-agnostic pieces live in :mod:`connectors.kit` (errors and vendor error tables, call
budgets, the retry policy, tokens); this module ties them to singer-sdk:

* :class:`HubTap` - a ``Tap`` whose streams share one :class:`~connectors.kit.source.SourceKit`
  (pacer, retry policy, error table - read from the tap's ``vendor.yaml``) and one
  :class:`TokenCache`;
* :class:`HubRESTStream` - a ``RESTStream`` base with the behaviour every hub tap shares:
  records are emitted exactly as the API returned them (no type conformance, unknown/custom
  fields kept), every HTTP attempt is paced, one retry policy (tenacity, ``Retry-After``,
  time budget) replaces singer-sdk's ``backoff``, responses are classified by the vendor's
  error table, "refresh the token once and retry" on a token-invalid error, and bookmarks
  that tolerate records without (or with a malformed) replication key;
* JSON-schema helpers for loose, additive record schemas.

Nothing in here may import from the rest of the project.
"""

from __future__ import annotations

import decimal
import inspect
import json
import logging
import typing as t
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import requests
from singer_sdk import Tap
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

from connectors.kit.errors import (
    ErrorTable,
    RateLimitedError,
    SourceAPIError,
    SourceConfigError,
    SourceQuotaError,
    TokenInvalidError,
    error_table,
    int_code,
    one_line,
    scrub,
    strip_query_strings,
)
from connectors.kit.schemas import (
    base_url_property,
    is_int_value,
    iso_to_epoch_ms,
    loose_object,
    prop,
    tuning_properties,
)
from connectors.kit.source import SourceKit
from connectors.kit.tokens import (
    DEFAULT_REQUEST_TIMEOUT,
    Token,
    TokenCache,
    TokenEndpoint,
    config_base_url,
    fetch_json,
    token_lifetime,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

__all__ = [
    "CachedTokenAuthenticator",
    "ErrorTable",
    "HubRESTStream",
    "HubTap",
    "QueryTokenAuthenticator",
    "RateLimitedError",
    "SourceAPIError",
    "SourceConfigError",
    "SourceKit",
    "SourceQuotaError",
    "Token",
    "TokenCache",
    "TokenEndpoint",
    "TokenInvalidError",
    "base_url_property",
    "config_base_url",
    "error_table",
    "fetch_json",
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


# --------------------------------------------------------------------------- auth


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


def response_json(response: requests.Response) -> t.Any:
    """Parse (once) and cache a response's JSON; floats become ``Decimal``.

    Decimals keep the exact digits the API sent (``123.40`` stays ``123.40``) and
    singer-sdk's writer serialises them unchanged.
    """
    cached = getattr(response, "_hub_json", None)
    if cached is None:
        cached = response.json(parse_float=decimal.Decimal)
        response._hub_json = cached  # type: ignore[attr-defined]
    return cached


# --------------------------------------------------------------------------- taps


class HubTap(Tap):
    """A ``Tap`` whose streams share one :class:`SourceKit` and one :class:`TokenCache`.

    Token endpoints allow only a few calls a minute, so a run fetches one token and renews
    it only shortly before it expires; the kit's pacer keeps every call of the process
    inside the vendor's budgets.
    """

    #: The source's ``make_token_cache(config[, kit=...])``. Read from the class, so a plain
    #: function stays unbound.
    token_cache_factory: t.ClassVar[t.Callable[..., TokenCache]]

    #: The vendor's ``vendor.yaml`` (error codes, budgets, retry defaults); None = none.
    vendor_file: t.ClassVar[Path | None] = None

    @cached_property
    def kit(self) -> SourceKit:
        """Pacer, retry policy and error table shared by every call of this process."""
        return SourceKit.create(self.name, self.config, type(self).vendor_file)

    @cached_property
    def token_cache(self) -> TokenCache:
        """One token for every stream of this run."""
        factory = type(self).token_cache_factory
        if "kit" in inspect.signature(factory).parameters:
            return factory(self.config, kit=self.kit)
        return factory(self.config)

    def sync_all(self) -> None:
        """Sync, then log the run's call and budget-wait totals as a ``METRIC:`` line."""
        try:
            super().sync_all()
        finally:
            pacer = self.kit.pacer
            point = {
                "type": "counter",
                "metric": "budget_summary",
                "value": pacer.calls,
                "tags": {
                    "source": self.name,
                    "calls": pacer.calls,
                    "waits": pacer.waits,
                    "total_wait_seconds": round(pacer.waited_seconds, 3),
                },
            }
            self.logger.info("METRIC: %s", json.dumps(point, separators=(",", ":")))


# --------------------------------------------------------------------------- streams


class HubRESTStream(RESTStream):
    """``RESTStream`` with the hub's conventions (see module docstring).

    Subclasses provide ``secret_config_keys``, an ``authenticator`` reading the tap's
    ``token_cache`` (see :class:`HubTap`) and either an ``error_table`` (the vendor's codes)
    or a ``check_payload(payload, response)`` that raises for API-level errors.
    """

    #: Emit records exactly as the API returned them: singer-sdk must neither drop
    #: unknown properties nor coerce values (e.g. ``0``/``1`` into booleans).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    secret_config_keys: t.ClassVar[tuple[str, ...]] = ()

    #: The vendor's error table; None = legacy ``check_payload`` classification.
    error_table: t.ClassVar[ErrorTable | None] = None

    # ---- config-driven
    @property
    def url_base(self) -> str:
        return config_base_url(self.config)

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds per HTTP attempt (fractions allowed)."""
        return float(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)

    @property
    def kit(self) -> SourceKit:
        """The tap's shared kit."""
        return self._tap.kit  # type: ignore[attr-defined]

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The kit's retry policy (tenacity), replacing singer-sdk's ``backoff``."""
        return self.kit.retry.decorate(func, what=self.name)

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
        body = one_line(scrub((response.text or "")[:300], self.secrets), 300)
        return f"{self.name}: HTTP {response.status_code} {response.reason} for path {path}: {body}"

    # ---- responses
    def response_json(self, response: requests.Response) -> t.Any:
        return response_json(response)

    def check_payload(self, payload: t.Any, response: requests.Response) -> None:
        """Raise for API-level errors carried in a 200 response body (legacy path)."""

    def validate_response(self, response: requests.Response) -> None:
        """Classify by the vendor's error table (or, without one, status + ``check_payload``)."""
        try:
            payload = self.response_json(response)
        except ValueError:
            payload = None
        table = self.error_table
        if table is not None:
            verdict = table.classify(payload if isinstance(payload, dict) else None, response.status_code)
            if not verdict.ok:
                raise table.error(verdict, self.name, response, self.secrets, self.fatal_error_class)
            return
        if response.status_code == 429:
            raise RateLimitedError(self.response_error_message(response), response)
        super().validate_response(response)
        if payload is None:
            msg = f"{self.name}: response from {urlparse(response.url).path} is not JSON"
            raise RetriableAPIError(msg, response)
        self.check_payload(payload, response)

    #: Exception class for the table's ``fatal`` action (sources may subclass it).
    fatal_error_class: t.ClassVar[type[SourceAPIError]] = SourceAPIError

    def _paced_request(
        self,
        prepared_request: requests.PreparedRequest,
        context: Context | None,
    ) -> requests.Response:
        """One HTTP attempt inside the kit's call budget."""
        self._tap.token_cache.get()  # a token call (paced itself) never runs while we hold a slot
        path = urlparse(prepared_request.url or "").path
        with self.kit.pacer.slot(path):
            return super()._request(prepared_request, context)

    def _request(
        self,
        prepared_request: requests.PreparedRequest,
        context: Context | None,
    ) -> requests.Response:
        """Send (paced); on a token-invalid answer refresh the token once and replay."""
        try:
            return self._paced_request(prepared_request, context)
        except TokenInvalidError as first:
            self.logger.warning(
                "%s: access token rejected (%s); refreshing it and retrying once.",
                self.name,
                first,
            )
            self._tap.token_cache.invalidate()
            try:
                return self._paced_request(prepared_request, context)
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
        json_body: t.Any = None,
        context: Context | None = None,
    ) -> t.Any:
        """One ad-hoc call through the same auth / pacing / retry / error machinery."""
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
    def is_valid_bookmark_value(self, value: t.Any) -> bool:
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

    def write_checkpoint(self) -> None:
        """Emit a STATE message now (the loader commits records and state together)."""
        self.state_manager.is_flushed = False
        self._write_state_message()
