"""The kit's shorter requests path (connectors/kit/transport.py) and the reused retry controller:
same requests and responses as requests' own session path, cookies and redirects kept."""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import typing as t
import zlib
from collections.abc import Iterator

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from connectors.kit import transport
from connectors.kit.retry import RETRIABLE, RetriesExhaustedError, RetryPolicy

PARAMS = [
    {},
    {"page_index": 1, "rows_per_page": 100, "ds_sequence": 1},
    {"to_account": "", "from_account": None, "id": "SO 001/甲", "tags": ["a", "b"], "flag": True},
    {"q": "a+b&c=d~e", "n": 1.5},
]


URLS = [
    "http://api.example/api/saleorder/get",
    "https://API.example:8443",
    "http://api.example/a path/ü?x=1",
    "http://api.example/api/x?fixed=1&b=",
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("json_body", [None, {"corpid": "x", "名": [1, None]}])
def test_prepare_builds_the_request_session_prepare_request_builds(url, params, json_body):
    session = requests.Session()
    session.headers["X-Session"] = "s"
    session.cookies.set("sid", "c1", domain="api.example", path="/")
    headers = {"User-Agent": "hub-test", "X-Session": None, "Accept": "application/json"}
    ours = transport.prepare(session, "POST" if json_body else "GET", url, params=params, headers=headers,
                        json_body=json_body)
    theirs = session.prepare_request(requests.Request(
        "POST" if json_body else "GET", url, params=params, headers=headers, json=json_body))
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert dict(ours.headers) == dict(theirs.headers)
    assert "X-Session" not in ours.headers
    assert ours.headers.get("Cookie") == theirs.headers.get("Cookie")
    ours.headers["X-Later"] = "1"  # the next request starts from the merged headers again
    again = transport.prepare(session, "GET", url, params=params, headers=headers)
    assert "X-Later" not in again.headers


class Quiet(http.server.BaseHTTPRequestHandler):
    """A test server's handler: replies with a length, logs nothing."""

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded local server with ``handler`` for as long as the fixture lives: its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Handler(Quiet):
    """/set-cookie sets one; /moved redirects to /echo; /echo answers what it was sent."""

    def do_GET(self) -> None:
        if self.path.startswith("/moved"):
            self._reply(302, b"", [("Location", "/echo?moved=1")])
            return
        body = json.dumps({"path": self.path, "cookie": self.headers.get("Cookie")}).encode()
        extra = [("Set-Cookie", "sid=abc; Path=/")] if self.path.startswith("/set-cookie") else []
        self._reply(200, body, [*extra, ("Content-Type", "application/json")])


@pytest.fixture
def base_url() -> Iterator[str]:
    yield from serving(Handler)


def hub_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # as HubRESTStream.requests_session leaves it
    return session


def test_send_keeps_cookies_the_source_sets_and_follows_redirects(base_url):
    session = hub_session()
    first = transport.send(session, transport.prepare(session, "GET", base_url + "/set-cookie"), timeout=5)
    assert first.status_code == 200 and first.json()["cookie"] is None
    assert session.cookies.get("sid") == "abc"
    again = transport.send(session, transport.prepare(session, "GET", base_url + "/echo"), timeout=5)
    assert again.json()["cookie"] == "sid=abc"

    moved = transport.send(session, transport.prepare(session, "GET", base_url + "/moved"), timeout=5)
    assert moved.status_code == 200 and moved.json()["path"] == "/echo?moved=1"
    assert [r.status_code for r in moved.history] == [302]
    kept = transport.send(session, transport.prepare(session, "GET", base_url + "/moved"), timeout=5, allow_redirects=False)
    assert kept.status_code == 302 and kept.history == []


def test_send_uses_the_sessions_adapter_and_hooks(base_url):
    session = hub_session()
    sent: list[str] = []

    class Recording(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            sent.append(kwargs["proxies"].get("http", "-"))
            return super().send(request, **kwargs)

    session.mount(base_url, Recording())
    session.proxies = {"https": "http://proxy.example:3128"}  # not for http: not used
    assert transport.send(session, transport.prepare(session, "GET", base_url + "/echo"), timeout=5).ok
    assert sent == ["-"]

    seen: list[int] = []
    session.hooks["response"].append(lambda r, **_: seen.append(r.status_code))
    assert transport.send(session, transport.prepare(session, "GET", base_url + "/echo"), timeout=5).ok
    assert seen == [200]  # a session with hooks goes through Session.send, which runs them


def test_a_decorated_call_counts_attempts_per_thread_and_reads_sleep_when_called():
    policy = RetryPolicy(budget_seconds=60, backoff_factor=0.0, max_tries=3)
    attempts: dict[str, int] = {}

    def flaky(name: str) -> str:
        attempts[name] = attempts.get(name, 0) + 1
        if attempts[name] < 3:
            raise RetriableAPIError(f"{name} busy")
        return name

    call = policy.decorate(flaky, what="test")
    slept: list[float] = []
    policy.sleep = slept.append  # changed after decorate: still the one used
    results: list[str] = []
    threads = [threading.Thread(target=lambda n=n: results.append(call(n))) for n in ("a", "b", "c", "d")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["a", "b", "c", "d"]
    assert attempts == {"a": 3, "b": 3, "c": 3, "d": 3}  # each call its own count of three
    assert len(slept) == 8

    def always_busy(_: str) -> str:
        raise RetriableAPIError("busy")

    with pytest.raises(RetriesExhaustedError, match="after 3 attempts"):
        policy.decorate(always_busy, what="test")("x")


# ------------------------------------------------------------------ the lean path (http.client)


class Varied(Quiet):
    """Replies of every shape the lean path must read as requests does."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs

    def do_GET(self) -> None:
        path = self.path
        if path.startswith("/moved"):
            self._reply(302, b"", [("Location", "/json?moved=1")])
        elif path.startswith("/gzip"):
            self._reply(200, gzip.compress(b'{"z": "gzip \\u7532"}'), [("Content-Encoding", "gzip")])
        elif path.startswith("/deflate"):
            self._reply(200, zlib.compress(b'{"z": "deflate"}'), [("Content-Encoding", "deflate")])
        elif path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"parts": ', b'[1, 2]}'):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path.startswith("/busy"):
            self._reply(503, b"busy", [("Retry-After", "2"), ("Content-Type", "text/plain")])
        elif path.startswith("/cut"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"cut": ')
            self.close_connection = True
        elif path.startswith("/slow"):
            time.sleep(1.0)
            self._reply(200, b"{}", [])
        elif path.startswith("/bye"):  # answers, then closes the kept-alive connection
            self._reply(200, b'{"bye": 1}', [])
            self.close_connection = True
        else:
            body = json.dumps({"path": path, "cookie": self.headers.get("Cookie"),
                               "ua": self.headers.get("User-Agent"),
                               "encoding": self.headers.get("Accept-Encoding")}).encode()
            extra = [("Set-Cookie", "sid=abc; Path=/")] if path.startswith("/set-cookie") else []
            self._reply(200, body, [("Content-Type", "application/json"), ("X-Twice", "a"), ("X-Twice", "b"), *extra])

@pytest.fixture
def varied() -> Iterator[str]:
    yield from serving(Varied)


def both(session: requests.Session, url: str, **kwargs: t.Any) -> tuple[requests.Response, requests.Response]:
    """The same call through requests' path and through the lean one."""
    theirs = transport.send(session, transport.prepare(session, "GET", url), timeout=5, **kwargs)
    ours = transport.lean_send(session, transport.prepare(session, "GET", url), timeout=5, **kwargs)
    return theirs, ours


@pytest.mark.parametrize("path", ["/json?a=1&b=%E7%94%B2", "/gzip", "/deflate", "/chunked", "/busy", "/moved"])
def test_lean_send_reads_every_reply_as_requests_does(varied, path):
    session = hub_session()
    assert transport.lean_eligible(session, transport.prepare(session, "GET", varied + path))
    theirs, ours = both(session, varied + path)
    assert (ours.status_code, ours.reason, ours.url, ours.encoding) == (
        theirs.status_code, theirs.reason, theirs.url, theirs.encoding)
    assert ours.content == theirs.content and ours.text == theirs.text
    skip = {"date", "content-length"} if path == "/json?a=1&b=%E7%94%B2" else {"date"}
    assert {k: v for k, v in ours.headers.items() if k.lower() not in skip} == {
        k: v for k, v in theirs.headers.items() if k.lower() not in skip}
    assert [r.status_code for r in ours.history] == [r.status_code for r in theirs.history]
    assert ours.request.url == theirs.request.url


def test_lean_send_keeps_cookies_follows_redirects_and_reuses_its_connection(varied):
    session = hub_session()
    first = transport.lean_send(session, transport.prepare(session, "GET", varied + "/set-cookie"), timeout=5)
    assert first.json()["cookie"] is None and first.cookies.get("sid") == "abc"
    assert session.cookies.get("sid") == "abc"
    again = transport.lean_send(session, transport.prepare(session, "GET", varied + "/json"), timeout=5)
    assert again.json()["cookie"] == "sid=abc"
    assert again.json()["encoding"] == "gzip, deflate"  # requests' own Accept-Encoding
    kept = transport.lean_send(session, transport.prepare(session, "GET", varied + "/moved"), timeout=5,
                               allow_redirects=False)
    assert kept.status_code == 302 and kept.history == [] and kept.is_redirect
    # the server closes a kept-alive connection after a reply: the next call opens a new one
    assert transport.lean_send(session, transport.prepare(session, "GET", varied + "/bye"), timeout=5).json() == {"bye": 1}
    assert transport.lean_send(session, transport.prepare(session, "GET", varied + "/json"), timeout=5).ok


def test_lean_send_raises_requests_errors_the_retry_policy_knows(varied):
    session = hub_session()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        transport.lean_send(session, transport.prepare(session, "GET", varied + "/cut"), timeout=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        transport.lean_send(session, transport.prepare(session, "GET", varied + "/slow"), timeout=0.2)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.lean_send(session, transport.prepare(session, "GET", f"http://127.0.0.1:{port}/x"), timeout=5)
    for error in (requests.exceptions.ChunkedEncodingError, requests.exceptions.ReadTimeout,
                  requests.exceptions.ConnectionError):
        assert issubclass(error, RETRIABLE)
    assert transport.lean_send(session, transport.prepare(session, "GET", varied + "/json"), timeout=5).ok


def test_lean_send_leaves_proxies_adapters_hooks_and_certificates_to_requests(varied):
    session = hub_session()
    request = transport.prepare(session, "GET", varied + "/json")
    assert transport.lean_eligible(session, request)
    session.proxies = {"https": "http://proxy.example:3128"}  # not for http: still lean
    assert transport.lean_eligible(session, request)
    session.proxies = {"http": "http://proxy.example:3128"}
    assert not transport.lean_eligible(session, request)
    session = hub_session()
    session.cert = "/nonexistent/client.pem"
    assert not transport.lean_eligible(session, request)
    session = hub_session()
    session.mount(varied, requests.adapters.HTTPAdapter(max_retries=3))  # requests' own class: lean
    assert transport.lean_eligible(session, request)

    class Recording(requests.adapters.HTTPAdapter):
        pass

    session.mount(varied, Recording())
    assert not transport.lean_eligible(session, request)
    session = hub_session()
    session.hooks["response"].append(lambda r, **_: r)
    assert not transport.lean_eligible(session, transport.prepare(session, "GET", varied + "/json"))
    session = hub_session()
    session.headers["Accept-Encoding"] = "gzip, br"
    assert not transport.lean_eligible(session, transport.prepare(session, "GET", varied + "/json"))


@pytest.fixture
def tls(tmp_path) -> Iterator[tuple[str, str]]:
    """An HTTPS server with a self-signed certificate for 127.0.0.1, and that certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Varied)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", str(cert)
    finally:
        server.shutdown()
        server.server_close()


def test_lean_send_verifies_tls_as_requests_does(tls):
    url, cert = tls
    session = hub_session()
    with pytest.raises(requests.exceptions.SSLError):  # not in the default CA bundle
        transport.lean_send(session, transport.prepare(session, "GET", url + "/json"), timeout=5)
    session.verify = cert
    theirs, ours = both(session, url + "/json")
    assert ours.status_code == theirs.status_code == 200 and ours.content == theirs.content
    session = hub_session()
    session.verify = False
    assert transport.lean_send(session, transport.prepare(session, "GET", url + "/gzip"), timeout=5).json() == {"z": "gzip 甲"}
