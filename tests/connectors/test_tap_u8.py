"""tap-u8 against the U8 OpenAPI simulator: singer-sdk standard suite + targeted behaviour."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json

import pytest
from singer_sdk.exceptions import FatalAPIError

from connectors.kit.errors import SourceConfigError
from connectors.tap_u8.client import U8Stream
from connectors.tap_u8.documents import U8WindowedStream
from connectors.tap_u8.fingerprints import Fingerprints, content_hash, key_hash, packed
from connectors.tap_u8.incremental import Window, list_window_filters
from connectors.tap_u8.tap import TapU8
from simulators import credentials
from tests.connectors import helpers

U8 = credentials.U8
TOKEN_PATH = "/system/token"


def base_config(url: str, **overrides: object) -> dict:
    auth = {
        "from_account": U8.from_account,
        "to_account": U8.to_account,
        "app_key": U8.app_key,
        "app_secret": U8.app_secret,
    }
    return helpers.tap_config(url, auth, **overrides)


def run_tap(config: dict, state: dict | None = None) -> helpers.SyncResult:
    return helpers.sync_tap(TapU8, config, state)


def order(code: str, day: str = "2026-11-01", **extra: object) -> dict:
    return {
        "code": code, "date": day, "state": "Approved", "custcode": "C001",
        "cusname": "上海甲有限公司", "deptcode": "01", "personcode": "P01",
        "money": 1000.0, "sum": 1130.0, "createsystime": "2026-11-01 09:30:00",
        "entry": [
            {"inventorycode": "I001", "quantity": 2, "taxunitprice": 565.0, "natsum": 1130.0},
        ],
        **extra,
    }


# ------------------------------------------------------------------ standard suite


def standard_world() -> dict:
    """Every resource has rows; amounts are JSON numbers (the suite checks numeric types)."""
    return {
        "meta": {"name": "tap-u8-standard"},
        "u8": {
            "person": [{"code": "P01", "name": "张伟", "mobile": "13800000001", "deptcode": "01"},
                       {"code": "P02", "name": "李娜", "mobile": "13800000002", "deptcode": "02"}],
            "customer": [
                {"code": f"C00{i}", "name": f"客户{i}有限公司", "abbrname": f"客户{i}",
                 "spec_operator": "P01", "taxno": "91110108551385082Q",
                 "ModifyDate": "2026-11-01 10:00:00"}
                for i in range(1, 4)
            ],
            "saleorderlist": [order("SO001"), order("SO002", "2026-11-02")],
            "consignmentlist": [
                {"code": "DL001", "date": "2026-11-03", "custcode": "C001", "sum": 1130.0,
                 "entry": [{"socode": "SO001", "inventory_code": "I001",
                            "warehouse_code": "W01", "quantity": 2, "sum": 1130.0}]},
            ],
            "saleinvoicelist": [
                {"invoiceno": "INV001", "date": "2026-11-04", "customercode": "C001",
                 "vouchertype": "26", "sum": 1130.0,
                 "entry": [{"inventorycode": "I001", "quantity": 2, "originalsum": 1130.0,
                            "sum": 1130.0}]},
            ],
            "oughtreceivelist": [{"code": "AR001", "date": "2026-11-04", "custcode": "C001",
                                  "personcode": "P01", "amount": 1130.0, "balance": 130.0,
                                  "duedate": "2026-12-04"}],
            "acceptlist": [{"code": "RV001", "date": "2026-11-10", "custcode": "C001",
                            "amount": 1000.0}],
            "inventory": [{"code": "I001", "name": "螺栓", "ModifyDate": "2026-10-01 08:00:00"}],
            "currentstock": [{"invcode": "I001", "whcode": "W01", "quantity": 40},
                             {"invcode": "I001", "whcode": "W02", "quantity": 2}],
        },
    }


STANDARD_CONFIG = base_config("http://127.0.0.1:9/u8", page_size=2)

_StandardTests = helpers.standard_tests(TapU8, STANDARD_CONFIG, "u8", standard_world)


class TestTapU8Standard(_StandardTests):  # type: ignore[misc, valid-type]
    """singer-sdk's standard tap tests, against a simulator started for this class."""


# ------------------------------------------------------------------ targeted tests


sim, u8 = helpers.simulator_fixtures("u8")


def customers(n: int) -> list[dict]:
    return [{"code": f"C{i:03d}", "name": f"客户{i}"} for i in range(n)]


def test_string_page_fields_walk_every_page(u8, monkeypatch):
    u8.set_world({"u8": {"customer": customers(45)}})
    pages = helpers.record_results(
        monkeypatch, U8Stream, "get_url_params", lambda params: params["page_index"]
    )
    result = run_tap(base_config(u8.urls["u8"], resources=["customer"], page_size=10))
    assert [r["code"] for r in result.records["customer"]] == [f"C{i:03d}" for i in range(45)]
    assert pages == [1, 2, 3, 4, 5]  # page_count "5" (a string) ends the walk
    assert u8.sims["u8"].calls["/api/customer/batch_get"] == 5
    assert u8.sims["u8"].calls[TOKEN_PATH] == 1


def test_errcode_20002_is_an_empty_stream(u8):
    u8.set_world({"u8": {"customer": customers(1)}})
    result = run_tap(base_config(u8.urls["u8"], resources=["customer", "acceptlist", "person"]))
    assert len(result.records["customer"]) == 1
    assert "acceptlist" not in result.records
    assert "person" not in result.records
    assert u8.sims["u8"].calls["/api/acceptlist/batch_get"] == 1


def test_document_lines_come_from_get_one_record_per_document(u8):
    docs = [order(f"SO{i:03d}") for i in range(5)]
    invoice = {"invoiceno": "INV9", "date": "2026-11-05", "customercode": "C001",
               "entry": [{"inventorycode": "I001", "quantity": "1", "sum": "10.00"}]}
    u8.set_world({"u8": {"saleorderlist": docs, "saleinvoicelist": [invoice]}})
    config = base_config(u8.urls["u8"], resources=["saleorderlist", "saleinvoicelist"],
                         page_size=2)
    result = run_tap(config)
    assert result.records["saleorderlist"] == docs  # full documents, entry included
    assert result.records["saleinvoicelist"] == [invoice]
    calls = u8.sims["u8"].calls
    assert calls["/api/saleorder/get"] == 5  # the real OpenAPI's single-document name
    assert calls["/api/saleinvoice/get"] == 1
    assert calls["/api/saleorderlist/batch_get"] == 3

    calls.clear()
    overridden = run_tap({**config, "get_resources": {"saleorderlist": "saleorderlist"}})
    assert overridden.records["saleorderlist"] == docs
    assert calls["/api/saleorderlist/get"] == 5

    calls.clear()
    headers = run_tap({**config, "fetch_lines": False})
    assert headers.records["saleorderlist"] == [
        {k: v for k, v in d.items() if k != "entry"} for d in docs
    ]
    assert calls["/api/saleorder/get"] == 0


def test_amount_strings_and_malformed_values_pass_through(u8):
    odd = order("SO777", money="1000.00", sum="abc", date="not-a-date",
                verifysystime="2026-13-45 99:99:99", custom_field="自定义")
    stock = {"invcode": "I001", "whcode": "W01", "quantity": "12.500", "batch": "B1"}
    u8.set_world({"u8": {"saleorderlist": [odd], "currentstock": [stock]}})
    result = run_tap(base_config(u8.urls["u8"], resources=["saleorderlist", "currentstock"]))
    assert result.records["saleorderlist"] == [odd]
    assert result.records["currentstock"] == [stock]


def test_key_properties_can_be_overridden_per_resource():
    tap = TapU8(config=base_config("http://127.0.0.1:9/u8", key_properties={
        "currentstock": ["inventory_code", "warehouse_code"],
    }), parse_env_config=False)
    keys = {s["tap_stream_id"]: s["key_properties"] for s in tap.catalog_dict["streams"]}
    assert keys["currentstock"] == ["inventory_code", "warehouse_code"]
    assert keys["saleinvoicelist"] == ["invoiceno"]
    assert keys["customer"] == ["code"]


def test_date_filters_narrow_orders(u8):
    u8.set_world({"u8": {"saleorderlist": [
        order("SO1", "2026-10-30"), order("SO2", "2026-11-02"), order("SO3", "2026-11-09"),
    ]}})
    result = run_tap(base_config(
        u8.urls["u8"], resources=["saleorderlist"], date_begin="2026-11-01",
        date_end="2026-11-05",
    ))
    assert [r["code"] for r in result.records["saleorderlist"]] == ["SO2"]


def test_expired_token_is_refreshed_once_and_replayed(u8):
    u8.set_world({"u8": {"customer": customers(3), "person": [{"code": "P01"}]}})
    tap = TapU8(config=base_config(u8.urls["u8"], resources=["person", "customer"]),
                parse_env_config=False)
    helpers.capture_sync(tap.streams["person"])
    u8.expire_tokens("u8")  # next call answers errcode "30001"
    buf = helpers.capture_sync(tap.streams["customer"])
    assert buf.getvalue().count('"type":"RECORD"') == 3
    assert u8.sims["u8"].calls[TOKEN_PATH] == 2


def test_http_429_and_5xx_are_retried(u8):
    u8.set_world({"u8": {"customer": customers(3)}})
    u8.inject_fault("u8", count=1, code=429, path="batch_get")
    u8.inject_fault("u8", count=1, code=503, path="batch_get")
    u8.inject_fault("u8", count=1, code="-1", path="batch_get")  # busy errcode, HTTP 200
    result = run_tap(base_config(u8.urls["u8"], resources=["customer"]))
    assert len(result.records["customer"]) == 3
    assert u8.sims["u8"].calls["/api/customer/batch_get"] == 4


def test_bad_secret_is_a_clear_config_error_without_the_secret(u8):
    secret = "not-the-u8-secret-91ab"
    with pytest.raises(SourceConfigError) as info:
        run_tap(base_config(u8.urls["u8"], app_secret=secret, resources=["customer"]))
    message = str(info.value)
    assert "40001" in message
    assert "app_secret" in message
    assert secret not in message
    assert u8.sims["u8"].calls[TOKEN_PATH] == 1


def test_unreachable_token_endpoint_does_not_leak_the_secret():
    secret = "u8-secret-in-query-string"
    with pytest.raises(FatalAPIError) as info:
        run_tap(base_config("http://127.0.0.1:9/u8", app_secret=secret, max_tries=2,
                            resources=["customer"], request_timeout=2))
    assert secret not in str(info.value)
    assert "U8 token request failed" in str(info.value)


# ------------------------------------------------------------------ incremental reads


def orders_by_day(days: list[str]) -> list[dict]:
    return [order(f"SO{i:03d}", day) for i, day in enumerate(days)]


def capture_partial(config: dict, state: dict | None) -> tuple[list[dict], Exception | None]:
    """The messages of a sync that may fail midway, and its exception."""
    buf = io.StringIO()
    error = None
    with contextlib.redirect_stdout(buf):
        try:
            TapU8(config=config, state=state, parse_env_config=False).sync_all()
        except Exception as exc:
            error = exc
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()], error


def stored_marks(state: dict) -> dict[int, int]:
    """A stream state's stored fingerprints: key hash -> packed day and content hash."""
    return {key: packed(day, value) for key, day, value in Fingerprints.load(state.get("fingerprints")).items()}


def held(state: dict, keys: list[str]) -> list[str]:
    """Those of ``keys`` whose fingerprint the stream state holds (it stores key hashes only)."""
    marks = stored_marks(state)
    return sorted(k for k in keys if key_hash(k) in marks)


def last_state(messages: list[dict]) -> dict:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def test_second_sync_reads_its_window_and_fetches_no_unchanged_document(u8, monkeypatch):
    days = ["2026-09-01", "2026-10-01", "2026-11-10", "2026-11-14", "2026-11-18", "2026-11-20"]
    docs = orders_by_day(days)
    u8.set_world({"u8": {"saleorderlist": docs}})
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=2, lookback_days=7)
    calls = u8.sims["u8"].calls
    first = run_tap(config)
    assert len(first.records["saleorderlist"]) == 6
    assert calls["/api/saleorder/get"] == 6
    bookmark = first.state["bookmarks"]["saleorderlist"]
    assert bookmark["replication_key"] == "date"
    assert bookmark["replication_key_value"] == "2026-11-20"
    # bounded state: fingerprints only for the days the next run lists (from 2026-11-13)
    assert held(bookmark, [d["code"] for d in docs]) == ["SO003", "SO004", "SO005"]
    assert len(stored_marks(bookmark)) == 3 and "seen" not in bookmark
    schema = next(m for m in first.messages if m["type"] == "SCHEMA")
    assert schema["bookmark_properties"] == ["date"]

    calls.clear()
    params = helpers.record_results(monkeypatch, U8WindowedStream, "get_url_params", dict)
    second = run_tap(config, first.state)
    assert "saleorderlist" not in second.records
    assert calls["/api/saleorder/get"] == 0  # nothing changed: not one document fetched
    assert {p["date_begin"] for p in params} == {"2026-11-13"}  # only the lookback window
    assert calls["/api/saleorderlist/batch_get"] == 2  # 3 headers in the window, 2 a page

    # two documents change (one just inside the window), one arrives late with an old date,
    # one is new: exactly those are fetched and emitted
    docs[3]["sum"] = 2260.0
    docs[5]["state"] = "Closed"
    docs.append(order("SO100", "2026-11-16"))
    docs.append(order("SO101", "2026-11-21"))
    docs[0]["sum"] = 1.0  # outside the window: not seen (the lookback is the bound)
    calls.clear()
    third = run_tap(config, second.state)
    assert sorted(r["code"] for r in third.records["saleorderlist"]) == ["SO003", "SO005", "SO100", "SO101"]
    assert calls["/api/saleorder/get"] == 4
    assert third.state["bookmarks"]["saleorderlist"]["replication_key_value"] == "2026-11-21"


def test_state_is_emitted_after_each_page_and_a_killed_sync_resumes(u8, monkeypatch):
    # dates months apart: fingerprints of the first pages are pruned as the pass goes on, so only
    # the cursor keeps a resumed pass from fetching them again
    docs = orders_by_day(["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"])
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults["SO004"] = "40001"  # page 3: refused -> the source stops
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=2, state_interval_seconds=0)
    messages, error = capture_partial(config, None)
    assert isinstance(error, SourceConfigError)
    kinds = [m["type"] for m in messages if m["type"] in ("RECORD", "STATE")]
    assert kinds[:6] == ["RECORD", "RECORD", "STATE", "RECORD", "RECORD", "STATE"]  # STATE after each page
    stream_state = last_state(messages)["bookmarks"]["saleorderlist"]
    assert stream_state["cursor"] == {"filters": {"rows_per_page": 2}, "page": 2, "latest": "2026-09-01"}
    assert "replication_key_value" not in stream_state  # the bookmark waits for a complete pass

    del u8.sims["u8"].document_faults["SO004"]
    u8.sims["u8"].calls.clear()
    pages = helpers.record_results(monkeypatch, U8WindowedStream, "get_url_params", lambda p: p["page_index"])
    resumed = run_tap(config, last_state(messages))
    # from the last page done (listed again in case pages shifted); of its documents, only the
    # one whose fingerprint was pruned (a month older than the latest) is fetched again
    assert pages == [2, 3]
    assert [r["code"] for r in resumed.records["saleorderlist"]] == ["SO002", "SO004", "SO005"]
    assert u8.sims["u8"].calls["/api/saleorder/get"] == 3
    final = resumed.state["bookmarks"]["saleorderlist"]
    assert final["replication_key_value"] == "2026-11-01" and "cursor" not in final


def test_state_waits_for_its_interval_and_a_killed_sync_resumes_from_the_last_one(u8):
    # 1 s apart by default; one hour here: a pass of three pages writes STATE once, after the last
    docs = orders_by_day(["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"])
    u8.set_world({"u8": {"saleorderlist": docs}})
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=2, state_interval_seconds=3600)
    whole = run_tap(config)
    kinds = [m["type"] for m in whole.messages if m["type"] in ("RECORD", "STATE")]
    assert kinds[:7] == ["RECORD"] * 6 + ["STATE"]
    cursor = [m["value"]["bookmarks"]["saleorderlist"].get("cursor") for m in whole.messages if m["type"] == "STATE"]
    assert cursor[0] == {"filters": {"rows_per_page": 2}, "page": 3, "latest": "2026-11-01"}  # the last page done
    assert whole.state["bookmarks"]["saleorderlist"]["replication_key_value"] == "2026-11-01"

    # killed on page 3: no STATE was written, so the rerun starts over and misses nothing
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults["SO004"] = "40001"
    messages, error = capture_partial(config, None)
    assert isinstance(error, SourceConfigError)
    assert [m["type"] for m in messages if m["type"] in ("RECORD", "STATE")] == ["RECORD"] * 4
    del u8.sims["u8"].document_faults["SO004"]
    u8.sims["u8"].calls.clear()
    rerun = run_tap(config, None)
    assert [r["code"] for r in rerun.records["saleorderlist"]] == [d["code"] for d in docs]
    assert u8.sims["u8"].calls["/api/saleorder/get"] == 6


@pytest.mark.parametrize("fault", ["99999", "truncated"])
def test_a_failing_document_is_quarantined_and_retried_next_run(u8, fault):
    docs = orders_by_day(["2026-11-01", "2026-11-02", "2026-11-03"])
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults["SO001"] = fault
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], max_tries=2, lookback_days=0)
    first = run_tap(config)
    assert [r["code"] for r in first.records["saleorderlist"]] == ["SO000", "SO002"]
    [reject] = first.records["_rejects"]
    assert reject["stream"] == "saleorderlist"
    assert reject["record_key"] == "SO001"
    assert ("99999" if fault == "99999" else "not JSON") in reject["reason"]
    assert reject["data"]["code"] == "SO001"  # the header, as listed
    state = first.state["bookmarks"]["saleorderlist"]
    assert state["quarantine"] == {"SO001": "2026-11-02"}

    # next run: its window (lookback 0) no longer lists SO001, which is fetched by key
    del u8.sims["u8"].document_faults["SO001"]
    u8.sims["u8"].calls.clear()
    second = run_tap(config, first.state)
    assert [r["code"] for r in second.records["saleorderlist"]] == ["SO001"]
    assert second.records["saleorderlist"][0]["entry"]  # the full document this time
    assert "_rejects" not in second.records
    assert second.state["bookmarks"]["saleorderlist"]["quarantine"] == {}
    assert u8.sims["u8"].calls["/api/saleorder/get"] == 1


def test_many_failing_documents_stop_the_source(u8):
    u8.set_world({"u8": {"saleorderlist": orders_by_day(["2026-11-01"] * 3)}})
    u8.sims["u8"].document_faults.update({"SO000": "99999", "SO001": "99999"})
    try:
        with pytest.raises(FatalAPIError, match="more than 1 documents"):
            run_tap(base_config(u8.urls["u8"], resources=["saleorderlist"], max_quarantined=1))
    finally:  # the simulator is shared: later tests of this worker list SO000 and SO001 too
        u8.sims["u8"].document_faults.clear()


def test_inventory_is_windowed_on_its_modified_date(u8, monkeypatch):
    items = [{"code": f"I{i}", "name": "螺栓", "ModifyDate": f"2026-11-{d:02d} 08:00:00"}
             for i, d in enumerate([1, 10, 20])]
    u8.set_world({"u8": {"inventory": items}})
    config = base_config(u8.urls["u8"], resources=["inventory"], lookback_days=3)
    first = run_tap(config)
    assert len(first.records["inventory"]) == 3
    assert first.state["bookmarks"]["inventory"]["replication_key_value"] == "2026-11-20"
    params = helpers.record_results(monkeypatch, U8WindowedStream, "get_url_params", dict)
    items[0]["name"] = "垫片"
    items[0]["ModifyDate"] = "2026-11-21 09:00:00"
    second = run_tap(config, first.state)
    assert [r["code"] for r in second.records["inventory"]] == ["I0"]
    assert params[0]["modifydate_begin"] == "2026-11-17"
    assert "date_begin" not in params[0]


def former_fingerprint(header: dict) -> str:
    """The fingerprint a state stored before the compact form: 16 hex digits of a SHA-256."""
    text = json.dumps(header, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_a_state_in_the_former_form_resumes_with_the_same_verdicts(u8, monkeypatch):
    # a warehouse's stored state from before the compact form ("seen": {key: [day, hex]}) must
    # skip the same unchanged documents and fetch the changed one, then be written compactly
    days = ["2026-09-01", "2026-10-01", "2026-11-10", "2026-11-14", "2026-11-18", "2026-11-20"]
    docs = orders_by_day(days)
    u8.set_world({"u8": {"saleorderlist": docs}})
    u8.sims["u8"].document_faults.clear()
    config = base_config(u8.urls["u8"], resources=["saleorderlist"], page_size=2, lookback_days=7)
    listed: list[dict] = []
    mark = Window.mark
    monkeypatch.setattr(Window, "mark", lambda self, header: (listed.append(dict(header)), mark(self, header))[1])
    first = run_tap(config)
    bookmark = first.state["bookmarks"]["saleorderlist"]
    former = {k: v for k, v in bookmark.items() if k != "fingerprints"}
    former["seen"] = {h["code"]: [h["date"], former_fingerprint(h)] for h in listed if h["date"] >= "2026-11-13"}
    assert len(former["seen"]) == 3

    docs[4]["sum"] = 999.0  # SO004 changed at the source
    u8.set_world({"u8": {"saleorderlist": docs}})
    calls = u8.sims["u8"].calls
    calls.clear()
    second = run_tap(config, {"bookmarks": {"saleorderlist": former}})
    assert former["quarantine"] == {} and [r["code"] for r in second.records["saleorderlist"]] == ["SO004"]
    assert calls["/api/saleorder/get"] == 1
    after = second.state["bookmarks"]["saleorderlist"]
    assert "seen" not in after and held(after, [d["code"] for d in docs]) == ["SO003", "SO004", "SO005"]
    assert stored_marks(after)[key_hash("SO003")] == stored_marks(bookmark)[key_hash("SO003")]
    assert stored_marks(after)[key_hash("SO004")] != stored_marks(bookmark)[key_hash("SO004")]


def test_fingerprints_are_stored_compactly_and_read_back_exactly():
    prints = Fingerprints()
    for i in range(1000):
        prints.put(key_hash(f"SO{i}"), packed(None if i % 100 == 0 else f"2026-11-{1 + i % 20:02d}", i * 7919))
    stored = prints.dump()
    assert sorted(stored)[0] == "" and len(stored) == 21  # the undated group, then one per day
    assert sum(len(text) for text in stored.values()) < 1000 * 22 + 21 * 4  # 16 bytes a pair, base64
    again = Fingerprints.load(json.loads(json.dumps(stored)))
    assert list(again.items()) == list(prints.items()) and len(again) == 1000
    assert again.dump() == stored


def test_customers_are_a_full_table_read(u8, monkeypatch):
    u8.set_world({"u8": {"customer": customers(3)}})
    params = helpers.record_results(monkeypatch, U8Stream, "get_url_params", dict)
    config = base_config(u8.urls["u8"], resources=["customer"], date_begin="2026-11-01")
    first = run_tap(config)
    second = run_tap(config, first.state)
    assert len(first.records["customer"]) == len(second.records["customer"]) == 3
    assert all("date_begin" not in p for p in params)  # the API has no date filter for customers
    schema = next(m for m in first.messages if m["type"] == "SCHEMA")
    assert not schema.get("bookmark_properties")  # FULL_TABLE: the hub may diff its key set


def test_window_bookkeeping_stays_bounded_and_honours_configured_dates():
    state: dict = {"replication_key": "date", "replication_key_value": "2026-03-03"}
    window = Window(state, "date", lookback_days=7)
    assert window.begin == "2026-02-24"  # across a month end
    for code, day in (("A", "2026-02-25"), ("B", "2026-03-05"), ("C", "not-a-date"), ("D", "2026-03-01 08:00:00")):
        unchanged, mark = window.is_unchanged(code, {"code": code, "date": day})
        assert not unchanged
        window.emitted(code, mark)
    assert window.is_unchanged("B", {"code": "B", "date": "2026-03-05"})[0]
    assert not window.is_unchanged("B", {"code": "B", "date": "2026-03-05", "sum": 1})[0]
    window.finish()
    # A (before 2026-02-26, the next run's first day) is forgotten; the undated C, listed in
    # this pass, is kept; the bookmark is the latest valid day
    assert held(state, list("ABCD")) == ["B", "C", "D"] and len(stored_marks(state)) == 3
    assert state["replication_key_value"] == "2026-03-05"
    nxt = Window(state, "date", lookback_days=7)
    nxt.finish()  # a pass that no longer lists C drops it
    assert held(state, list("ABCD")) == ["B", "D"] and len(stored_marks(state)) == 2

    stream = TapU8(config=base_config("http://127.0.0.1:9/u8", date_begin="2026-03-01", date_end="2026-03-31"),
                   parse_env_config=False).streams["saleorderlist"]
    narrowed = list_window_filters(stream, Window({"replication_key": "date", "replication_key_value": "2026-03-03"},
                                                  "date", 7), None)
    assert narrowed == {"date_begin": "2026-03-01", "date_end": "2026-03-31"}  # the later begin wins
    widened = list_window_filters(stream, Window({"replication_key": "date", "replication_key_value": "2026-03-20"},
                                                 "date", 7), None)
    assert widened["date_begin"] == "2026-03-13"


def test_a_server_ignoring_the_date_filter_costs_no_get_for_old_documents(u8, monkeypatch):
    # the spec lists date filters for some document lists only: if a server ignores them, the
    # window still holds on our side
    u8.set_world({"u8": {"consignmentlist": [
        {"code": f"DL{i}", "date": day, "custcode": "C001", "entry": []}
        for i, day in enumerate(["2026-08-01", "2026-09-01", "2026-11-18", "2026-11-20"])
    ]}})
    config = base_config(u8.urls["u8"], resources=["consignmentlist"])
    first = run_tap(config)
    assert len(first.records["consignmentlist"]) == 4
    monkeypatch.setattr("connectors.tap_u8.documents.list_window_filters", lambda *args: {})
    u8.sims["u8"].calls.clear()
    second = run_tap(config, first.state)
    assert u8.sims["u8"].calls["/api/consignmentlist/batch_get"] == 1  # everything listed ...
    assert u8.sims["u8"].calls["/api/consignment/get"] == 0  # ... and nothing fetched
    assert "consignmentlist" not in second.records


def test_pruning_after_each_page_keeps_exactly_the_window_of_a_full_scan():
    # prune() scans all fingerprints only when its cutoff moves, else the keys marked since:
    # after every page the state must hold exactly what a full scan would have kept
    import random
    from datetime import date, timedelta

    pick = random.Random(5)
    # (a state in the former form: its marks are read as they were)
    seen = {"OLD": ["2025-12-01", "x"], "KEEP": ["2026-01-09", "y"], "NODAY": [None, "z"]}
    state: dict = {"replication_key": "date", "replication_key_value": "2026-01-10", "seen": dict(seen)}
    window = Window(state, "date", lookback_days=7)
    # the model: every mark, then a full scan after each page
    expected = {k: (day, packed(day, content_hash(fp))) for k, (day, fp) in seen.items()}
    days = [f"2026-{m:02d}-{d:02d}" for m in (1, 2) for d in range(1, 29)]
    for page in range(60):
        for n in range(25):
            code = f"SO{pick.randrange(400)}"
            day = pick.choice(days[: 8 + page // 2])  # the latest day moves on slowly, then stops
            unchanged, mark = window.is_unchanged(code, {"code": code, "date": day, "n": n % 3})
            if not unchanged:
                window.emitted(code, mark)
                expected[code] = mark
        window.prune()
        window.store()
        cutoff = (date.fromisoformat(window.latest) - timedelta(days=7)).isoformat()
        expected = {k: v for k, v in expected.items() if v[0] is None or v[0] >= cutoff}
        assert stored_marks(state) == {key_hash(k): mark for k, (_, mark) in expected.items()}, page
    assert "NODAY" in expected and "OLD" not in expected and len(expected) > 10 and "seen" not in state
