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

import typing as t

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
    request.prepare_url(url, params)
    request.prepare_headers(merge_setting(headers, session.headers, dict_class=CaseInsensitiveDict))
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
