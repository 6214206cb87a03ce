"""A shorter way through ``requests`` for the hub's ad-hoc calls (``HubRESTStream.call_api``).

U8 makes one ``get`` call per document (tens of thousands per sync); each went through
``requests.Request`` -> ``Session.prepare_request`` -> ``Session.send``, which per call rebuilds
a cookie jar, merges settings and hooks, resolves proxies and walks redirect machinery: about a
third of the tap's GIL-held time on a 1000-customer sync (bench/profile_sync.py, py-spy).

:func:`prepare` and :func:`send` produce the same request and response with less of that:

- the same headers (the session's defaults, then the call's; ``None`` removes one, as
  ``merge_setting`` does), the same URL and body encoding (``PreparedRequest``'s own
  ``prepare_url`` / ``prepare_body``), the session's cookies when it holds any;
- the session's own transport adapter (so mounted adapters, the proxies and CA bundle fixed on
  the session - :attr:`HubRESTStream.requests_session` -, timeouts, TLS and requests' exception
  types are exactly requests'), cookies a source sets kept in the session, redirects followed by
  the session's own ``resolve_redirects``;
- not repeated per call: proxy lookup in the environment (hub sessions have ``trust_env``
  off and their proxies already read), hook dispatch (a session with response hooks, or one
  that trusts the environment, goes through ``Session.send`` unchanged).

The token is not added here: ``HubRESTStream.send`` authenticates every attempt (a replay after
a refresh carries the new token), exactly as before.
"""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import urlencode

import requests
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.hooks import default_hooks
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict


def prepare(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: t.Any = None,
    headers: t.Mapping[str, t.Any] | None = None,
    json_body: t.Any = None,
) -> requests.PreparedRequest:
    """The request ``session.prepare_request`` would build (without auth: see module)."""
    request = requests.PreparedRequest()
    request.prepare_method(method)
    query = _encoded_query(params) if type(params) is dict and _plain(url) else None
    if query is None:
        request.prepare_url(url, params)
    else:
        base = _prepared_url(url)
        request.url = f"{base}?{query}" if query else base
    request.headers = _merged_headers(session, headers).copy()
    if len(session.cookies):
        jar = RequestsCookieJar()
        jar.update(session.cookies)
        request.prepare_cookies(jar)
    else:
        request._cookies = RequestsCookieJar()  # what prepare_cookies would set
    request.prepare_body(data=None, files=None, json=json_body)
    request.hooks = default_hooks()
    if session.hooks.get("response"):
        request.prepare_hooks(session.hooks)  # merge_hooks: the session's, as the request has none
    return request


def _plain(url: str) -> bool:
    """An ASCII ``http(s)`` URL without query or fragment: ``prepare_url`` of it plus params is
    its own prepared form, ``?``, and the encoded params (which requoting leaves unchanged)."""
    return url.startswith(("http://", "https://")) and url.isascii() and "?" not in url and "#" not in url


@functools.lru_cache(maxsize=256)
def _prepared_url(url: str) -> str:
    """``PreparedRequest.prepare_url(url, None)`` (parsed, checked, requoted) once per URL."""
    request = requests.PreparedRequest()
    request.prepare_url(url, None)
    return request.url or url


def _encoded_query(params: dict) -> str:
    """``RequestEncodingMixin._encode_params`` of a dict: the same pairs (``None`` dropped,
    iterables spread, text as UTF-8) through the same ``urlencode``, without its protocol checks."""
    pairs: list[tuple[t.Any, t.Any]] = []
    for key, values in params.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]  # as requests does
        for value in values:
            if value is not None:
                pairs.append((key.encode("utf-8") if isinstance(key, str) else key,
                              value.encode("utf-8") if isinstance(value, str) else value))
    return urlencode(pairs, doseq=True)


_HEADERS: dict[tuple, CaseInsensitiveDict] = {}


def _merged_headers(session: requests.Session, headers: t.Mapping[str, t.Any] | None) -> CaseInsensitiveDict:
    """The session's headers, then the call's (``None`` removes one), checked as
    ``prepare_headers`` checks them; built once per distinct pair (callers copy it)."""
    try:
        key: tuple | None = (tuple(session.headers.items()), tuple((headers or {}).items()))
        merged = _HEADERS.get(key)  # type: ignore[arg-type]
    except TypeError:  # an unhashable header value: merge it every time
        key, merged = None, None
    if merged is None:
        request = requests.PreparedRequest()
        request.prepare_headers(merge_setting(headers, session.headers, dict_class=CaseInsensitiveDict))
        merged = request.headers
        if key is not None and len(_HEADERS) < 256:
            _HEADERS[key] = merged
    return merged


def send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    timeout: float,
    allow_redirects: bool = True,
) -> requests.Response:
    """``session.send(request, timeout=..., allow_redirects=...)`` by a shorter path (module)."""
    if session.trust_env or request.hooks.get("response"):
        return session.send(request, timeout=timeout, allow_redirects=allow_redirects)
    options: dict[str, t.Any] = {
        "stream": session.stream,
        "verify": session.verify,
        "cert": session.cert,
        "proxies": dict(session.proxies),
    }
    adapter = session.get_adapter(url=request.url or "")
    response = adapter.send(request, timeout=timeout, **options)
    if "set-cookie" in response.headers:
        extract_cookies_to_jar(session.cookies, request, response.raw)
    if allow_redirects and response.is_redirect:
        history = list(session.resolve_redirects(response, request, timeout=timeout, **options))
        if history:
            history.insert(0, response)
            response = history.pop()
            response.history = history
    if not session.stream:
        response.content  # noqa: B018 - read the body now and release the connection, as send does
    return response
