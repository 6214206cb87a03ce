"""tap-u8's concurrent document fetches: list order kept, pages overlapped, one token refresh,
one budget, exact state when a pass stops midway.

No test here measures time: overlap is shown by the order of events (a fetch of the next page
starts while one of this page is still held back), not by a stopwatch.
"""

from __future__ import annotations

import threading

import pytest

from connectors.kit import rest
from connectors.kit.errors import SourceConfigError
from connectors.tap_u8.documents import U8DocumentStream
from simulators.common import RateLimiter
from tests.connectors import helpers
from tests.connectors.test_tap_u8 import base_config, capture_partial, last_state, order, orders_by_day, run_tap

sim, u8 = helpers.simulator_fixtures("u8")

#: How long a held-back call waits for what it waits for before giving up (a broken test ends
#: instead of hanging; a passing one never waits this long).
HOLD_SECONDS = 10


def codes(records: list[dict]) -> list[str]:
    return [r["code"] for r in records]


def record_and_state_kinds(messages: list[dict]) -> list[str]:
    return [m["type"] for m in messages if m["type"] in ("RECORD", "STATE")]


def test_next_page_is_fetched_while_a_slow_document_holds_this_one_and_order_is_kept(u8, monkeypatch):
    docs = orders_by_day(["2026-11-01"] * 9)
    u8.set_world({"u8": {"saleorderlist": docs}})
    next_page_started = threading.Event()
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    fetch = U8DocumentStream.fetch_document

    def slow_first_document(self, doc_id, context):
        with lock:
            events.append(("start", doc_id))
        if doc_id == "SO003":  # the first document of page 2
            next_page_started.set()
        if doc_id == "SO000":  # the server is slow on the first document of page 1
            next_page_started.wait(HOLD_SECONDS)
        document = fetch(self, doc_id, context)
        with lock:
            events.append(("end", doc_id))
        return document

    monkeypatch.setattr(U8DocumentStream, "fetch_document", slow_first_document)
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=3,
                         lines_concurrency=4, state_interval_seconds=0)
    result = run_tap(config)
    # page 2's documents were fetched while page 1's first one was still held back...
    assert events.index(("start", "SO003")) < events.index(("end", "SO000"))
    # ...and the answers, out of order, are emitted in list order, each STATE after its page
    assert codes(result.records["saleorderlist"]) == [d["code"] for d in docs]
    assert record_and_state_kinds(result.messages)[:12] == (["RECORD"] * 3 + ["STATE"]) * 3
    pages = [m["value"]["bookmarks"]["saleorderlist"].get("cursor", {}).get("page")
             for m in result.messages if m["type"] == "STATE"]
    assert pages[:3] == [1, 2, 3]
    assert u8.sims["u8"].calls["/api/saleorder/get"] == 9  # each document once


@pytest.mark.parametrize("concurrency", [1, 8])
def test_every_concurrency_emits_the_same_records_in_the_same_order(u8, concurrency):
    docs = orders_by_day([f"2026-11-{d:02d}" for d in range(1, 29)] * 2)
    u8.set_world({"u8": {"saleorderlist": docs}})
    result = run_tap(base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=5,
                                 lines_concurrency=concurrency))
    assert result.records["saleorderlist"] == docs
    assert u8.sims["u8"].calls["/api/saleorder/get"] == len(docs)


def test_threads_rejected_together_refresh_the_token_once(u8, monkeypatch):
    docs = orders_by_day(["2026-11-01"] * 8)
    u8.set_world({"u8": {"saleorderlist": docs}})
    # the token expires just before the first `get`; the four first `get`s (one per thread) all
    # come back rejected before any of them goes on to refresh it
    u8.inject_fault("u8", kind="expire_token", path="/get")
    together = threading.Barrier(4)
    send = rest.transport.send
    first_gets = iter(range(4))
    lock = threading.Lock()

    def send_then_wait(session, request, **kwargs):
        response = send(session, request, **kwargs)
        if "/get" in (request.url or ""):
            with lock:
                held = next(first_gets, None) is not None
            if held:
                try:
                    together.wait(HOLD_SECONDS)
                except threading.BrokenBarrierError:
                    pass
        return response

    monkeypatch.setattr(rest.transport, "send", send_then_wait)
    result = run_tap(base_config(u8.urls["u8"], resources=["saleorderlist"], lines_concurrency=4))
    assert not together.broken  # four rejections were indeed in flight together
    assert codes(result.records["saleorderlist"]) == [d["code"] for d in docs]
    assert u8.sims["u8"].calls["/system/token"] == 2  # the first token and one refresh


def test_list_and_document_calls_of_overlapping_pages_share_one_budget(u8):
    docs = orders_by_day(["2026-11-01"] * 24)
    u8.set_world({"u8": {"saleorderlist": docs}})
    budget = [{"name": "api", "match": "/api/", "max_calls": 6, "window_seconds": 0.3}]
    u8.sims["u8"].limiter = RateLimiter(helpers.sim_rules("u8", budget))
    result = run_tap(base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=4,
                                 lines_concurrency=8, rate_limits=budget))
    assert codes(result.records["saleorderlist"]) == [d["code"] for d in docs]
    assert not u8.sims["u8"].rejections  # 6 list + 24 get calls, never one over the budget
    assert u8.sims["u8"].calls["/api/saleorder/get"] == 24


def test_a_stop_on_a_page_fetched_ahead_leaves_state_at_the_last_page_emitted(u8):
    docs = orders_by_day(["2026-11-01"] * 9)
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults["SO004"] = "40001"  # page 2 of 3: refused -> the source stops
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=3,
                         lines_concurrency=4, state_interval_seconds=0)
    messages, error = capture_partial(config, None)
    assert isinstance(error, SourceConfigError)
    emitted = [m["record"]["code"] for m in messages if m["type"] == "RECORD"]
    assert emitted[:3] == ["SO000", "SO001", "SO002"]
    assert "SO004" not in emitted and not set(emitted) & {"SO006", "SO007", "SO008"}  # page 3: none
    state = last_state(messages)["bookmarks"]["saleorderlist"]
    assert state["cursor"]["page"] == 1  # page 2 was never complete
    assert "replication_key_value" not in state

    del u8.sims["u8"].document_faults["SO004"]
    resumed = run_tap(config, last_state(messages))
    again = codes(resumed.records["saleorderlist"])
    assert sorted(set(emitted) | set(again)) == [d["code"] for d in docs]  # none lost
    assert not set(again) & {"SO000", "SO001", "SO002"}  # page 1 is not emitted twice
    assert resumed.state["bookmarks"]["saleorderlist"]["replication_key_value"] == "2026-11-01"


def test_a_failing_document_among_concurrent_fetches_is_quarantined_in_its_place(u8):
    docs = [order(f"SO{i:03d}", "2026-11-01") for i in range(10)]
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults["SO006"] = "99999"
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=4,
                         lines_concurrency=4, max_tries=2)
    result = run_tap(config)
    assert codes(result.records["saleorderlist"]) == [d["code"] for d in docs if d["code"] != "SO006"]
    [reject] = result.records["_rejects"]
    assert reject["record_key"] == "SO006" and "99999" in reject["reason"]
    order_of = [(m["stream"], m["record"].get("code") or m["record"].get("record_key"))
                for m in result.messages if m["type"] == "RECORD"]
    assert order_of.index(("_rejects", "SO006")) == order_of.index(("saleorderlist", "SO007")) - 1
    assert result.state["bookmarks"]["saleorderlist"]["quarantine"] == {"SO006": "2026-11-01"}
