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

import datetime
import functools
import http.client
import os
import select
import ssl
import threading
import time
import typing as t
import zlib
from urllib.parse import urlencode, urlsplit

import requests
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.hooks import default_hooks
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, select_proxy


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


# ---------------------------------------------------------------------------------------------
# The lean path: one keep-alive ``http.client`` connection per thread and host.
#
# Past ``prepare``, a call through requests' adapter still costs urllib3's pool bookkeeping,
# its response wrapper and requests' ``build_response`` - about as much tap CPU again as the
# HTTP exchange itself on a per-document source. :func:`lean_send` makes the same exchange on
# ``http.client`` directly and returns a ``requests.Response`` with what the hub reads of one
# (status, reason, headers, body, encoding, url, request, cookies, history) and requests'
# exception types, so retry, the error table and messages see no difference. It is used only
# where it is the same request: no proxy for the URL, requests' own adapter mounted, no client
# certificate, no streaming, no hooks, no environment lookups - otherwise :func:`send`.


class _Raw:
    """What requests' cookie and redirect helpers read of ``Response.raw``."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self._original_response = response

    def read(self, *args: t.Any, **kwargs: t.Any) -> bytes:
        return b""

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


_LOCAL = threading.local()  # per thread: {(scheme, host, port, verify): HTTPConnection}
_CONTEXTS: dict[t.Any, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _ssl_context(verify: t.Any) -> ssl.SSLContext:
    """The TLS context requests would verify with: its CA bundle (certifi) by default, the
    session's file or folder when given one, no verification when ``verify`` is False."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(verify)
        if context is None:
            if verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                where = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
                if os.path.isdir(where):
                    context = ssl.create_default_context(capath=where)
                else:
                    context = ssl.create_default_context(cafile=where)
            _CONTEXTS[verify] = context
        return context


def lean_eligible(session: requests.Session, request: requests.PreparedRequest) -> bool:
    """Whether :func:`lean_send` makes exactly the exchange :func:`send` would (see above)."""
    url = request.url or ""
    if session.trust_env or session.stream or session.cert or request.hooks.get("response"):
        return False
    if not url.startswith(("http://", "https://")) or not isinstance(request.body, (bytes, type(None))):
        return False
    if type(session.get_adapter(url)) is not requests.adapters.HTTPAdapter:
        return False
    if session.proxies and select_proxy(url, session.proxies):
        return False
    coding = str(request.headers.get("Accept-Encoding", "identity")).replace(" ", "").split(",")
    return all(c in ("gzip", "deflate", "identity", "") for c in coding)


def _connection(scheme: str, host: str, port: int, verify: t.Any, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's open connection to the host (reused: True), or a new one."""
    pool = getattr(_LOCAL, "connections", None)
    if pool is None:
        pool = _LOCAL.connections = {}
    key = (scheme, host, port, verify if scheme == "https" else None)
    conn = pool.get(key)
    if conn is not None and conn.sock is not None:
        if select.select([conn.sock], [], [], 0)[0]:  # an idle connection readable: closed by the server
            conn.close()
        else:
            conn.sock.settimeout(timeout)
            conn.timeout = timeout
            return conn, True
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=_ssl_context(verify))
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    pool[key] = conn
    return conn, False


def _exchange(request: requests.PreparedRequest, verify: t.Any, timeout: float) -> tuple[http.client.HTTPResponse, bytes]:
    """Send the request and read the whole reply (once more on a fresh connection when a kept-alive
    one turns out closed by the server before it answered, as urllib3 does), with requests'
    exception types: ConnectTimeout / ConnectionError when no connection could be opened,
    ReadTimeout, ChunkedEncodingError for a reply cut short, ConnectionError otherwise."""
    parts = urlsplit(request.url or "")
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where = f"{host}:{port}"
    for attempt in (1, 2):
        conn, reused = _connection(scheme, host, port, verify, timeout)
        if not reused:
            try:
                conn.connect()
            except TimeoutError:
                conn.close()
                raise requests.exceptions.ConnectTimeout(f"{where}: connect timed out ({timeout} s)", request=request) from None
            except ssl.SSLError as exc:
                conn.close()
                raise requests.exceptions.SSLError(f"{where}: {exc}", request=request) from None
            except OSError as exc:
                conn.close()
                raise requests.exceptions.ConnectionError(f"{where}: {type(exc).__name__}: {exc}", request=request) from None
        answered = False
        try:
            conn.request(request.method or "GET", target, body=request.body, headers=request.headers)
            response = conn.getresponse()
            answered = True
            body = response.read()
        except TimeoutError:
            conn.close()
            raise requests.exceptions.ReadTimeout(f"{where}: read timed out ({timeout} s)", request=request) from None
        except http.client.IncompleteRead as exc:
            conn.close()
            raise requests.exceptions.ChunkedEncodingError(f"{where}: reply cut short ({exc!r})", request=request) from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if reused and not answered and attempt == 1 and request.method in ("GET", "HEAD", "OPTIONS"):
                continue  # the server had closed the kept-alive connection: open a new one
            raise requests.exceptions.ConnectionError(f"{where}: {type(exc).__name__}: {exc}", request=request) from None
        if response.will_close:
            conn.close()
        return response, body
    raise AssertionError("unreachable")  # pragma: no cover


def _decoded(body: bytes, coding: str) -> bytes:
    """The body without its content coding (gzip, possibly in several members, or deflate with or
    without the zlib wrapper, as urllib3 reads them)."""
    coding = coding.strip().lower()
    if coding in ("", "identity") or not body:
        return body
    try:
        if coding in ("gzip", "x-gzip"):
            out, rest = [], body
            while rest:
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out.append(decoder.decompress(rest))
                rest = decoder.unused_data
            return b"".join(out)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error as exc:
        msg = f"Received response with content-encoding: {coding}, but failed to decode it: {exc}"
        raise requests.exceptions.ContentDecodingError(msg) from None
    msg = f"Received response with content-encoding: {coding}, which this client does not decode"
    raise requests.exceptions.ContentDecodingError(msg)


def lean_send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    timeout: float,
    allow_redirects: bool = True,
) -> requests.Response:
    """:func:`send` on a kept-alive ``http.client`` connection of this thread when
    :func:`lean_eligible`, else :func:`send` itself."""
    if not lean_eligible(session, request):
        return send(session, request, timeout=timeout, allow_redirects=allow_redirects)
    started = time.perf_counter()
    raw, body = _exchange(request, session.verify, timeout)
    response = requests.Response()
    response.status_code = raw.status
    response.reason = raw.reason
    headers = CaseInsensitiveDict()
    for name, value in raw.getheaders():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    response.headers = headers
    response._content = _decoded(body, headers.get("Content-Encoding", ""))
    response._content_consumed = True
    response.encoding = get_encoding_from_headers(headers)
    response.raw = _Raw(raw)
    response.url = request.url or ""
    response.request = request
    response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
    if "set-cookie" in headers:
        extract_cookies_to_jar(response.cookies, request, response.raw)
        extract_cookies_to_jar(session.cookies, request, response.raw)
    if allow_redirects and response.is_redirect:
        history = list(session.resolve_redirects(response, request, timeout=timeout, stream=False,
                                                 verify=session.verify, cert=session.cert,
                                                 proxies=dict(session.proxies)))
        if history:
            history.insert(0, response)
            response = history.pop()
            response.history = history
    return response
