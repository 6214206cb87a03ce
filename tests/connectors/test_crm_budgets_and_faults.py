"""tap-fxiaoke against a CRM simulator that enforces its budget and injects faults.

Every fault is either survived with exactly the simulator's data, or fails the source with
a one-line actionable error; an interrupted or rate-limited sync resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest
from singer_sdk.exceptions import FatalAPIError

from connectors.kit.errors import SourceAPIError, SourceConfigError, SourceQuotaError
from connectors.kit.retry import RetriesExhaustedError
from connectors.tap_fxiaoke.client import PASS_KEY
from connectors.tap_fxiaoke.tap import TapFxiaoke
from simulators.common import RateLimiter, RateRule
from simulators.server import SimulatorServer
from tests.connectors import helpers
from tests.connectors.test_tap_fxiaoke import BASE_MS, accounts, base_config

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"
QUERY_PATH = "/cgi/crm/v2/data/query"

sim, crm = helpers.simulator_fixtures("crm")


def run(config: dict, state: dict | None = None) -> tuple[list[dict], Exception | None]:
    """The Singer messages of one sync and the error that ended it (None on success)."""
    buf = io.StringIO()
    error: Exception | None = None
    with contextlib.redirect_stdout(buf):
        try:
            TapFxiaoke(config=config, state=state, parse_env_config=False).sync_all()
        except Exception as exc:
            error = exc
    return [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()], error


def committed(messages: list[dict]) -> tuple[list[str], dict | None]:
    """Record ids a loader has committed (those before the last STATE) and that state."""
    ids: list[str] = []
    pending: list[str] = []
    state = None
    for msg in messages:
        if msg["type"] == "RECORD":
            pending.append(msg["record"]["_id"])
        elif msg["type"] == "STATE":
            ids += pending
            pending = []
            state = msg["value"]
    return ids, state


def ids_of(messages: list[dict]) -> list[str]:
    return [m["record"]["_id"] for m in messages if m["type"] == "RECORD"]


def config(crm, **overrides: object) -> dict:
    return base_config(crm.urls["crm"], objects=["AccountObj"], page_size=10, **overrides)


# ------------------------------------------------------------------ resumable passes


def test_state_is_emitted_after_every_page_and_the_pass_closes_at_the_end(crm):
    crm.set_world({"crm": {"AccountObj": accounts(35)}})
    messages, error = run(config(crm, state_interval_seconds=0))
    assert error is None
    kinds = [m["type"] for m in messages if m["type"] in {"RECORD", "STATE"}]
    # 10 records, STATE, 10, STATE, 10, STATE, 5, final STATE
    assert kinds == (["RECORD"] * 10 + ["STATE"]) * 3 + ["RECORD"] * 5 + ["STATE"]
    states = [m["value"]["bookmarks"]["AccountObj"] for m in messages if m["type"] == "STATE"]
    assert [s[PASS_KEY]["after_id"] for s in states[:3]] == ["A0009", "A0019", "A0029"]
    assert PASS_KEY not in states[-1]
    assert states[-1]["replication_key_value"] == BASE_MS + 34_000


def test_page_checkpoints_within_the_state_interval_wait_for_a_later_state(crm):
    """With a long ``state_interval_seconds`` only the first page's checkpoint is written at
    once; the others are carried by the end-of-stream STATE, or - when the sync fails - by the
    STATE written before the error, which names the last page whose records are out."""
    crm.set_world({"crm": {"AccountObj": accounts(35)}})
    messages, error = run(config(crm, state_interval_seconds=3600))
    assert error is None
    kinds = [m["type"] for m in messages if m["type"] in {"RECORD", "STATE"}]
    assert kinds == ["RECORD"] * 10 + ["STATE"] + ["RECORD"] * 25 + ["STATE"]
    assert PASS_KEY not in messages[-1]["value"]["bookmarks"]["AccountObj"]

    crm.set_world({"crm": {"AccountObj": accounts(45)}})
    crm.inject_fault("crm", code=30002, path="/data/query", skip=3)  # fourth page: quota gone
    first, error = run(config(crm, state_interval_seconds=3600))
    assert isinstance(error, SourceQuotaError)
    kinds = [m["type"] for m in first if m["type"] in {"RECORD", "STATE"}]
    assert kinds == ["RECORD"] * 10 + ["STATE"] + ["RECORD"] * 20 + ["STATE"]
    done, state = committed(first)
    assert state["bookmarks"]["AccountObj"][PASS_KEY]["after_id"] == "A0029"
    second, error = run(config(crm, state_interval_seconds=3600), state=state)
    assert error is None
    assert done + ids_of(second) == [f"A{i:04d}" for i in range(45)]  # nothing twice, none lost


def test_a_sync_stopped_by_the_daily_quota_resumes_where_it_stopped(crm):
    rows = accounts(45)
    crm.set_world({"crm": {"AccountObj": rows}})
    crm.inject_fault("crm", code=30002, path="/data/query", skip=2)  # third page: quota gone
    first, error = run(config(crm))
    assert isinstance(error, SourceQuotaError)
    assert "\n" not in str(error) and "30002" in str(error)
    done, state = committed(first)
    assert done == [f"A{i:04d}" for i in range(20)]
    assert state["bookmarks"]["AccountObj"][PASS_KEY]["after_id"] == "A0019"

    second, error = run(config(crm), state=state)
    assert error is None
    assert ids_of(second) == [f"A{i:04d}" for i in range(20, 45)]  # nothing twice, none lost
    final = committed(second)[1]["bookmarks"]["AccountObj"]
    assert PASS_KEY not in final
    assert final["replication_key_value"] == BASE_MS + 44_000


def test_records_sharing_the_bookmark_value_are_neither_lost_nor_duplicated(crm):
    same = BASE_MS + 5_000
    rows = [{"_id": f"T{i:03d}", "name": f"同时{i}", "last_modified_time": same} for i in range(25)]
    crm.set_world({"crm": {"AccountObj": accounts(3) + rows}})
    first, error = run(config(crm))
    assert error is None
    bookmark = committed(first)[1]
    assert bookmark["bookmarks"]["AccountObj"]["replication_key_value"] == same
    # interrupted in the middle of the ties on a later pass
    live = crm.world.data["crm"]["AccountObj"]
    for row in live[3:]:
        row["last_modified_time"] = same + 1_000
    crm.inject_fault("crm", code=30002, path="/data/query", skip=1)
    second, error = run(config(crm), state=bookmark)
    assert isinstance(error, SourceQuotaError)
    done, state = committed(second)
    third, error = run(config(crm), state=state)
    assert error is None
    assert sorted(done + ids_of(third)) == [f"T{i:03d}" for i in range(25)]
    assert len(set(done) & set(ids_of(third))) == 0


def test_a_rate_limited_sync_that_gives_up_resumes_on_the_next_run(crm):
    """A tap that does not pace (no budget configured) is refused; it gives up within its
    retry budget, and the next run continues after the last committed page."""
    crm.set_world({"crm": {"AccountObj": accounts(60)}})
    crm.sims["crm"].limiter = RateLimiter([RateRule("/data/query", 3, 30, 14001)])
    unpaced = config(crm, rate_limits=[], retry_budget_seconds=0.3)
    first, error = run(unpaced)
    assert isinstance(error, RetriesExhaustedError)
    assert "14001" in str(error) and "\n" not in str(error)
    done, state = committed(first)
    assert done == [f"A{i:04d}" for i in range(30)]
    crm.sims["crm"].limiter = RateLimiter(helpers.sim_rules("crm"))
    crm.sims["crm"].rejections.clear()
    second, error = run(config(crm), state=state)
    assert error is None
    assert ids_of(second) == [f"A{i:04d}" for i in range(30, 60)]


def test_an_unreadable_open_pass_starts_a_fresh_pass(crm):
    crm.set_world({"crm": {"AccountObj": accounts(5)}})
    state = {"bookmarks": {"AccountObj": {PASS_KEY: {"after_id": 17}}}}
    messages, error = run(config(crm), state=state)
    assert error is None
    assert ids_of(messages) == [f"A{i:04d}" for i in range(5)]


# ------------------------------------------------------------------ budgets


def test_the_tap_paces_itself_to_the_enforced_budget(crm, caplog):
    crm.set_world({"crm": {"AccountObj": accounts(100)}})
    budget = [{"name": "query", "match": "/data/query", "max_calls": 4, "window_seconds": 0.5,
               "per_path": True}]
    crm.sims["crm"].limiter = RateLimiter(helpers.sim_rules("crm", budget))
    start = time.monotonic()
    with caplog.at_level("INFO"):
        messages, error = run(config(crm, rate_limits=budget))
    took = time.monotonic() - start
    assert error is None
    assert ids_of(messages) == [f"A{i:04d}" for i in range(100)]
    assert crm.sims["crm"].calls[QUERY_PATH] == 11  # 10 full pages + the empty last one
    assert not crm.sims["crm"].rejections  # never over the limit
    assert took >= 1.0  # 11 calls at 4 per 0.5 s: two waits
    waits = [r.getMessage() for r in caplog.records if '"budget_wait"' in r.getMessage()]
    assert waits and waits[0].startswith("METRIC: ")
    summary = [r.getMessage() for r in caplog.records if '"budget_summary"' in r.getMessage()]
    assert json.loads(summary[-1].removeprefix("METRIC: "))["tags"]["waits"] >= 2


def test_real_fenxiang_budget_a_full_window_is_used_and_never_exceeded():
    """The real numbers (100 calls / 20 s per endpoint): 100 calls go through at once, the
    simulator refuses none, and the pacer then holds the 101st for the rest of the window."""
    world = {"crm": {"AccountObj": accounts(99)}}
    with SimulatorServer(world, enforce_rate_limits=True) as server:
        cfg = base_config(server.urls["crm"], objects=["AccountObj"], page_size=1)
        cfg.pop("rate_limits")  # the vendor file's real budget
        tap = TapFxiaoke(config=cfg, parse_env_config=False)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            tap.sync_all()
        records = [json.loads(x) for x in buf.getvalue().splitlines() if '"RECORD"' in x]
        assert len(records) == 99
        assert server.sims["crm"].calls[QUERY_PATH] == 100
        assert not server.sims["crm"].rejections
        window = tap.kit.pacer.window("query", "/crm" + QUERY_PATH)
        assert window.max_calls == 100 and window.window == 20
        assert window.in_use == 100
        assert window.next_free_in() > 15  # the next call would wait, not be refused
        assert tap.kit.pacer.waits == 0


# ------------------------------------------------------------------ faults


SURVIVABLE = {
    "busy": {"code": -1, "count": 2},
    "call limit": {"code": 14001},
    "per-second limit": {"code": 30004},
    "vendor timeout": {"code": 50009},
    "gateway 5xx burst": {"kind": "http", "status": 503, "count": 3},
    "gateway 502 with vendor body": {"code": -1, "status": 502},
    "slow response": {"kind": "slow", "delay": 0.3},
    "connection reset": {"kind": "reset", "count": 2},
    "truncated body": {"kind": "truncate"},
    "token expiry mid-sync": {"kind": "expire_token", "skip": 2},
}


@pytest.mark.parametrize("fault", SURVIVABLE.values(), ids=SURVIVABLE.keys())
def test_survivable_faults_give_exactly_the_data(crm, fault):
    rows = accounts(35)
    crm.set_world({"crm": {"AccountObj": rows}})
    options = dict(fault)
    count = options.pop("count", 1)
    options.setdefault("skip", 1)  # mid-sync, not on the first page
    crm.inject_fault("crm", count=count, path="/data/query", **options)
    messages, error = run(config(crm))
    assert error is None, error
    assert ids_of(messages) == [r["_id"] for r in rows]
    assert crm.sims["crm"].faults.pending == 0


def test_a_slow_response_beyond_the_timeout_is_retried(crm):
    crm.set_world({"crm": {"AccountObj": accounts(5)}})
    crm.inject_fault("crm", kind="slow", delay=1.5, path="/data/query")
    messages, error = run(config(crm, request_timeout=0.5))
    assert error is None
    assert len(ids_of(messages)) == 5
    assert crm.sims["crm"].calls[QUERY_PATH] == 2


@pytest.mark.parametrize("retry_after", ["1", "http-date"])
def test_429_retry_after_is_waited_for(crm, retry_after):
    crm.set_world({"crm": {"AccountObj": accounts(15)}})
    value = "1" if retry_after == "1" else _http_date(2.5)  # whole seconds: waits 1.5-2.5 s
    crm.inject_fault("crm", kind="http", status=429, retry_after=value, path="/data/query", skip=1)
    start = time.monotonic()
    messages, error = run(config(crm))
    took = time.monotonic() - start
    assert error is None
    assert len(ids_of(messages)) == 15
    assert took >= 1.0  # the Retry-After wait happened (backoff alone would be ~0.01 s)


def _http_date(seconds_ahead: float) -> str:
    import email.utils

    return email.utils.formatdate(time.time() + seconds_ahead, usegmt=True)


FATAL = {
    "daily quota": (30002, SourceQuotaError, "daily"),
    "no quota bought": (30003, SourceQuotaError, "quota"),
    "no authorization": (20017, SourceConfigError, "current_open_user_id"),
    "bad secret": (10006, SourceConfigError, "app_secret"),
    "offset too deep": (10013, SourceAPIError, "10013"),
    "unknown code": (987654, SourceAPIError, "987654"),
}


@pytest.mark.parametrize(("code", "error_class", "hint"), FATAL.values(), ids=FATAL.keys())
def test_fatal_codes_stop_the_source_at_once_with_one_line(crm, code, error_class, hint):
    crm.set_world({"crm": {"AccountObj": accounts(15)}})
    crm.inject_fault("crm", code=code, path="/data/query", skip=1)
    messages, error = run(config(crm))
    assert isinstance(error, error_class)
    text = str(error)
    assert "\n" not in text and hint in text and str(code) in text
    assert crm.sims["crm"].calls[QUERY_PATH] == 2  # no retry
    assert "同" not in text and "客户" not in text  # no record content
    assert ids_of(messages) == [f"A{i:04d}" for i in range(10)]


def test_quota_on_the_token_endpoint_stops_before_any_data_call(crm):
    crm.set_world({"crm": {"AccountObj": accounts(3)}})
    crm.inject_fault("crm", code=30002, path="corpAccessToken")
    _, error = run(config(crm))
    assert isinstance(error, SourceQuotaError)
    assert crm.sims["crm"].calls[TOKEN_PATH] == 1
    assert crm.sims["crm"].calls[QUERY_PATH] == 0


def test_a_busy_burst_longer_than_the_retry_budget_fails_with_one_line(crm):
    crm.set_world({"crm": {"AccountObj": accounts(3)}})
    crm.inject_fault("crm", count=1000, code=-1, path="/data/query")
    start = time.monotonic()
    _, error = run(config(crm, retry_budget_seconds=0.5))
    assert isinstance(error, FatalAPIError)
    assert time.monotonic() - start < 3
    assert "failed after" in str(error) and "-1" in str(error) and "\n" not in str(error)
