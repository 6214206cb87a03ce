"""``HubRESTStream``: singer-sdk's ``RESTStream`` with what every hub REST source shares.

- records are emitted exactly as the API returned them (no type conformance; unknown and
  custom fields kept; floats parsed as ``Decimal`` so ``123.40`` stays ``123.40``);
- every HTTP attempt waits for a slot of the source's call budget (:mod:`.pacing`);
- one retry policy (:mod:`.retry`, tenacity, ``Retry-After``, a time budget) replaces
  singer-sdk's ``backoff``;
- every response is classified by the vendor's error table (:mod:`.errors`), the same table
  the token call uses; on a "token rejected" code the token is refreshed once and the request
  replayed;
- messages carry the path, never the query string, and never a secret.

All of it sits on singer-sdk's public hooks: ``request_decorator`` (pacing, token refresh,
retry), ``validate_response``, ``response_error_message``, ``authenticator``.
"""

from __future__ import annotations

import decimal
import functools
import os
import typing as t
from functools import cached_property
from urllib.parse import urlparse

import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

from connectors.kit import transport
from connectors.kit.auth import TokenAuthenticator
from connectors.kit.bookmarks import HubBookmarks
from connectors.kit.errors import (
    SourceAPIError,
    SourceConfigError,
    TokenInvalidError,
    one_line,
    scrub,
)
from connectors.kit.records import HubRecords
from connectors.kit.tokens import DEFAULT_REQUEST_TIMEOUT, TokenCache, config_base_url

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from connectors.kit.errors import ErrorTable
    from connectors.kit.source import SourceKit


def response_json(response: requests.Response) -> t.Any:
    """Parse (once) and cache a response's JSON; floats become ``Decimal`` (exact digits)."""
    cached = getattr(response, "_hub_json", None)
    if cached is None:
        cached = response.json(parse_float=decimal.Decimal)
        response._hub_json = cached  # type: ignore[attr-defined]
    return cached


def url_path(url: str) -> str:
    """``urlparse(url).path``, parsed once per URL without its query (the path a call budget
    matches: parsing the whole URL of every call was a visible share of a U8 tap's CPU)."""
    return _path_before_query(url.partition("?")[0])


@functools.lru_cache(maxsize=1024)
def _path_before_query(url: str) -> str:
    return urlparse(url).path


class HubRESTStream(HubBookmarks, HubRecords, RESTStream):
    """``RESTStream`` with the hub's conventions (module docstring); its tap is a ``HubTap``."""

    #: Emit records exactly as the API returned them: singer-sdk must neither drop unknown
    #: properties nor coerce values (e.g. ``0``/``1`` into booleans).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: No ``http_request_duration`` METRIC line per call: nothing in the hub reads it and it
    #: costs tap CPU on every page. ``http_request_count`` (read by hub_cli/progress.py) stays.
    _LOG_REQUEST_METRICS = False

    #: Exception class for the error table's ``fatal`` action (sources may subclass it).
    fatal_error_class: t.ClassVar[type[SourceAPIError]] = SourceAPIError

    @property
    def hub_tap(self) -> t.Any:
        """The ``HubTap`` this stream belongs to (singer-sdk keeps it as ``_tap``)."""
        return self._tap

    @property
    def kit(self) -> SourceKit:
        """The tap's shared pacer, retry policy and error table."""
        return self.hub_tap.kit

    @property
    def error_table(self) -> ErrorTable | None:
        """The vendor's error table (with the tenant's config codes in force)."""
        return self.kit.errors

    @property
    def url_base(self) -> str:
        return config_base_url(self.config)

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds per HTTP attempt (fractions allowed)."""
        return float(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)

    @property
    def requests_session(self) -> requests.Session:
        """singer-sdk's session, with the environment's proxies and CA bundle read once.

        A session that trusts the environment re-reads proxy variables (and ``.netrc``) on every
        request; here they are read when the session is first used and the session stops
        looking: same proxies (for ``url_base``), same ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``."""
        session = super().requests_session
        if session.trust_env:
            session.proxies = requests.utils.get_environ_proxies(self.url_base)
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            session.trust_env = False
        return session

    @cached_property
    def authenticator(self) -> TokenAuthenticator:
        """The token where the vendor file's ``token.send`` says, read on every send."""
        return TokenAuthenticator(self.hub_tap.token_cache, self.hub_tap.token_spec().send, self.config)

    # ---- secrets
    @property
    def secrets(self) -> list[str]:
        """Values that must never reach a message: secret config values and the token."""
        values = [self.config.get(k) for k in self.hub_tap.secret_keys()]
        cache = getattr(self.hub_tap, "token_cache", None)
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
        """The response's JSON, parsed once (:func:`response_json`)."""
        return response_json(response)

    def validate_response(self, response: requests.Response) -> None:
        """Classify by the vendor's error table; raise what its verdict says."""
        try:
            payload = self.response_json(response)
        except ValueError:
            payload = None
        table = self.error_table
        if table is None:
            super().validate_response(response)
            return
        verdict = table.classify(payload if isinstance(payload, dict) else None, response.status_code)
        if not verdict.ok:
            raise table.error(verdict, self.name, response, self.secrets, self.fatal_error_class)

    # ---- requests
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Each attempt paced, a rejected token refreshed once, all inside the kit's retry policy."""
        tap = self.hub_tap

        def paced(prepared_request: requests.PreparedRequest, context: Context | None,
                  sent_with: list[str] | None = None) -> requests.Response:
            token = tap.token_cache.get()  # a token call (paced itself) never runs while we hold a slot
            if sent_with is not None:
                sent_with.append(token.value)
            with self.kit.pacer.slot(url_path(prepared_request.url or "")):
                return func(prepared_request, context)

        def refreshing(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            sent_with: list[str] = []
            try:
                return paced(prepared_request, context, sent_with)
            except TokenInvalidError as first:
                self.logger.warning("%s: access token rejected (%s); refreshing it and retrying once.",
                                    self.name, first)
                # Only the token this call went out with: calls on other threads rejected at the
                # same time must not drop the one a first thread has just fetched (one refresh
                # per expiry, not one per thread in flight).
                tap.token_cache.invalidate(sent_with[-1] if sent_with else None)
                try:
                    return paced(prepared_request, context)
                except TokenInvalidError as second:
                    msg = (f"{self.name}: the source rejected a freshly issued access token ({second}); "
                           "check the credentials' permissions.")
                    raise SourceConfigError(msg) from None

        return self.kit.retry.decorate(refreshing, what=self.name)

    def send(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        """One attempt of an ad-hoc call: authenticate (current token), send, validate."""
        request = self.authenticator(prepared_request)
        send = transport.send if self.config.get("lean_http") is False else transport.lean_send
        response = send(self.requests_session, request, timeout=self.timeout, allow_redirects=self.allow_redirects)
        self.validate_response(response)
        return response

    @cached_property
    def _send_with_retries(self) -> t.Callable[..., requests.Response]:
        """:meth:`send` inside :meth:`request_decorator`, built once per stream (it is called
        once per document on some sources, from several threads: its state is per thread)."""
        return self.request_decorator(self.send)

    def call_api(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, t.Any] | None = None,
        json_body: t.Any = None,
        context: Context | None = None,
    ) -> t.Any:
        """One ad-hoc call through the same auth / pacing / retry / error machinery; its JSON."""
        headers = dict(self.http_headers)
        headers.setdefault("User-Agent", self.user_agent)
        prepared = transport.prepare(
            self.requests_session, method, self.url_base + path, params=params or {}, headers=headers,
            json_body=json_body,
        )
        return self.response_json(self._send_with_retries(prepared, context))
