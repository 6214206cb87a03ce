"""connectors.kit: vendor error tables, the sliding-window pacer and the retry policy."""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from connectors.kit.errors import (
    RateLimitedError,
    Rule,
    SourceAPIError,
    SourceConfigError,
    SourceQuotaError,
    TokenInvalidError,
    error_table,
)
from connectors.kit.pacing import Budget, Pacer, SlidingWindow, budgets_from
from connectors.kit.retry import RetriesExhaustedError, RetryPolicy, retry_after_seconds
from connectors.kit.source import SourceKit
from connectors.tap_finance.tap import TapFinance
from connectors.tap_fxiaoke.tap import TapFxiaoke
from connectors.tap_u8.tap import TapU8
from connectors.tap_wecom.tap import TapWecom

FINANCE_FILE = TapFinance.vendor_file()
CRM_FILE = TapFxiaoke.vendor_file()
WECOM_FILE = TapWecom.vendor_file()
U8_FILE = TapU8.vendor_file()


# ------------------------------------------------------------------ error tables


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (0, "ok"), (20016, "token"), ("20016", "token"), (20017, "config"), (10006, "config"),
        (30004, "rate"), (14001, "rate"), (30002, "quota"), (30003, "quota"), (-1, "retry"),
        ("-1", "retry"), (50009, "retry"), (10013, "fatal"), (99999, "fatal"),
    ],
)
def test_fxiaoke_codes_come_from_the_table(code, action):
    assert error_table(CRM_FILE).classify({"errorCode": code}).action == action


def test_http_status_is_classified_before_and_after_vendor_codes():
    crm, u8 = error_table(CRM_FILE), error_table(U8_FILE)
    assert crm.classify({"errorCode": 0}, 429).action == "rate"  # 429 always means "slow down"
    assert crm.classify(None, 503).action == "retry"
    assert crm.classify(None, 200).action == "retry"  # unreadable (e.g. truncated) body
    assert crm.classify({}, 200).action == "fatal"  # JSON without errorCode
    assert crm.classify({"errorCode": 30002}, 502).action == "quota"  # a known code wins over 5xx
    assert u8.classify({"errcode": "20002"}).action == "no_data"
    assert u8.classify({"errcode": "20002"}).ok
    assert u8.classify({"errcode": "77"}).action == "fatal"  # unknown non-"0" codes stop
    assert u8.classify({"errcode": "-1"}, 500).action == "retry"


def test_finance_and_wecom_tables():
    finance, wecom = error_table(FINANCE_FILE), error_table(WECOM_FILE)
    assert finance.classify({"code": 40100}, 401).action == "config"
    assert finance.classify({"code": 40102}, 401).action == "token"
    assert finance.classify({"code": 12345}, 401).action == "token"  # the status decides
    assert finance.classify({"code": 40000}, 400).action == "fatal"
    for code, action in [(-1, "retry"), (45009, "rate"), (40014, "token"), (42001, "token"),
                         (41001, "token"), (40001, "config"), (40013, "config"), (60111, "fatal")]:
        assert wecom.classify({"errcode": code}).action == action


def test_error_messages_are_one_line_actionable_and_secret_free():
    table = error_table(CRM_FILE)
    secret = "app-secret-4f9e"
    verdict = table.classify({"errorCode": 10006, "errorMessage": f"bad secret {secret}\nline2"})
    exc = table.error(verdict, "CRM token request", secrets=[secret])
    assert isinstance(exc, SourceConfigError)
    text = str(exc)
    assert "\n" not in text
    assert secret not in text
    assert "10006" in text and "app_secret" in text
    quota = table.error(table.classify({"errorCode": 30002}), "AccountObj")
    assert isinstance(quota, SourceQuotaError) and "daily" in str(quota)
    assert isinstance(table.error(table.classify({"errorCode": 20016}), "x"), TokenInvalidError)
    assert isinstance(table.error(table.classify({"errorCode": 14001}), "x"), RateLimitedError)
    unknown = table.error(table.classify({"errorCode": 424242}), "x")
    assert isinstance(unknown, SourceAPIError) and unknown.code == "424242"


def test_a_malformed_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="action must be one of"):
        Rule.parse({"action": "panic"})


# ------------------------------------------------------------------ Retry-After


def _response(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds(_response({"Retry-After": "3"})) == 3.0
    assert retry_after_seconds(_response({})) is None
    assert retry_after_seconds(_response({"Retry-After": "soon"})) is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= retry_after_seconds(_response({"Retry-After": in_ten})) <= 10
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert retry_after_seconds(_response({"Retry-After": past})) == 0.0


def test_retry_waits_at_least_retry_after():
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RateLimitedError("slow down", _response({"Retry-After": "1"}))
        return "ok"

    assert RetryPolicy(budget_seconds=10, backoff_factor=0.01).call(flaky) == "ok"
    assert calls[1] - calls[0] >= 1.0


def test_retries_work_to_a_time_budget_not_a_count():
    attempts: list[float] = []

    def always_busy() -> None:
        attempts.append(time.monotonic())
        raise RetriableAPIError("busy")

    start = time.monotonic()
    with pytest.raises(RetriesExhaustedError, match=r"failed after \d+ attempts") as info:
        RetryPolicy(budget_seconds=0.6, backoff_factor=0.05, max_backoff_seconds=0.2).call(
            always_busy, what="AccountObj"
        )
    took = time.monotonic() - start
    assert took <= 0.6 + 0.3
    assert len(attempts) >= 3  # waits 0.05, 0.1, 0.2, 0.2 ... until the budget would be passed
    assert "busy" in str(info.value)


def test_a_retry_after_beyond_the_budget_is_not_waited_for():
    def limited() -> None:
        raise RateLimitedError("limit", _response({"Retry-After": "30"}))

    start = time.monotonic()
    with pytest.raises(RetriesExhaustedError):
        RetryPolicy(budget_seconds=5).call(limited)
    assert time.monotonic() - start < 1


def test_fatal_errors_are_not_retried():
    attempts = []

    def bad() -> None:
        attempts.append(1)
        raise SourceConfigError("check app_secret")

    with pytest.raises(SourceConfigError):
        RetryPolicy(budget_seconds=10, backoff_factor=0.01).call(bad)
    assert attempts == [1]


def test_connection_errors_are_retried():
    attempts = []

    def reset() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise requests.exceptions.ConnectionError("reset by peer")
        return "ok"

    assert RetryPolicy(budget_seconds=5, backoff_factor=0.01).call(reset) == "ok"
    assert len(attempts) == 3


# ------------------------------------------------------------------ pacing


def test_sliding_window_waits_for_a_free_slot_instead_of_exceeding():
    window = SlidingWindow(max_calls=5, window=0.4)
    ends: list[float] = []
    starts: list[float] = []
    begin = time.monotonic()
    for _ in range(12):
        slot, _waited = window.acquire()
        starts.append(time.monotonic())
        window.release(slot)
        ends.append(time.monotonic())
    took = time.monotonic() - begin
    assert took >= 0.8  # 12 calls at 5 per 0.4 s: two full waits
    # every call starts at least one window after the end of the call 5 places before it
    for i in range(5, 12):
        assert starts[i] >= ends[i - 5] + 0.4 - 1e-3


def test_a_running_call_holds_its_slot_until_it_ends():
    window = SlidingWindow(max_calls=1, window=0.2)
    slot, _ = window.acquire()
    assert window.next_free_in() == float("inf")
    ended: list[float] = []

    def end_call() -> None:
        ended.append(time.monotonic())
        window.release(slot)

    threading.Timer(0.1, end_call).start()
    window.acquire()
    # the slot frees one window after the running call *ended*, not after it started
    assert time.monotonic() >= ended[0] + 0.2 - 1e-3


def test_pacer_is_shared_by_threads_and_reports_waits(caplog):
    pacer = Pacer([Budget("query", "/data/query", 6, 0.3, per_path=True)], source="tap-test")
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(6):
            with pacer.slot("/cgi/crm/v2/data/query"), lock:
                stamps.append(time.monotonic())

    caplog.set_level(logging.INFO, logger="connectors.kit.pacing")
    threads = [threading.Thread(target=worker) for _ in range(4)]
    begin = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert time.monotonic() - begin >= 0.9  # 24 calls at 6 per 0.3 s
    stamps.sort()
    for i in range(6, len(stamps)):
        assert stamps[i] - stamps[i - 6] >= 0.3 - 1e-3
    assert pacer.calls == 24
    assert pacer.waits > 0 and pacer.waited_seconds > 0.5
    metrics = [json.loads(r.getMessage().removeprefix("METRIC: ")) for r in caplog.records
               if r.getMessage().startswith("METRIC: ")]
    assert metrics and metrics[-1]["metric"] == "budget_wait"
    assert metrics[-1]["tags"]["budget"] == "query"
    assert metrics[-1]["tags"]["total_wait_seconds"] == pytest.approx(pacer.waited_seconds, abs=0.01)


def test_per_path_budgets_are_separate_and_unmatched_paths_are_free():
    pacer = Pacer([Budget("query", "/data/query", 1, 60, per_path=True)])
    with pacer.slot("/cgi/crm/v2/data/query"):
        pass
    with pacer.slot("/cgi/crm/custom/v2/data/query"):  # another endpoint: its own window
        pass
    with pacer.slot("/elsewhere"):
        pass
    assert pacer.waits == 0
    assert pacer.window("query", "/cgi/crm/v2/data/query").next_free_in() > 59


def test_budgets_come_from_the_vendor_file_and_config_overrides_them():
    kit = SourceKit.create("tap-fxiaoke", {}, CRM_FILE)
    assert {(b.name, b.max_calls, b.window_seconds) for b in kit.pacer.budgets} == {
        ("token", 10, 60.0), ("query", 100, 20.0),
    }
    assert kit.retry.budget_seconds == 300
    custom = SourceKit.create("tap-fxiaoke", {
        "rate_limits": [{"match": "/data/query", "max_calls": 3, "window_seconds": 1}],
        "retry_budget_seconds": 12,
    }, CRM_FILE)
    assert [(b.name, b.max_calls) for b in custom.pacer.budgets] == [("/data/query", 3)]
    assert custom.retry.budget_seconds == 12
    with pytest.raises(ValueError, match="max_calls"):
        budgets_from([], [{"match": "/x", "max_calls": 0, "window_seconds": 1}])
