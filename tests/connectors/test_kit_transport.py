"""The kit's shorter requests path (connectors/kit/transport.py) and the reused retry controller:
same requests and responses as requests' own session path, cookies and redirects kept."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from connectors.kit import transport
from connectors.kit.retry import RetriesExhaustedError, RetryPolicy

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


class Handler(http.server.BaseHTTPRequestHandler):
    """/set-cookie sets one; /moved redirects to /echo; /echo answers what it was sent."""

    def do_GET(self) -> None:
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/echo?moved=1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"path": self.path, "cookie": self.headers.get("Cookie")}).encode()
        self.send_response(200)
        if self.path.startswith("/set-cookie"):
            self.send_header("Set-Cookie", "sid=abc; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
