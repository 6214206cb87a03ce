"""tap-wecom, tap-finance and tap-u8 under enforced budgets and injected faults."""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest

from connectors.kit.errors import SourceConfigError
from connectors.tap_finance.tap import TapFinance
from connectors.tap_u8.tap import TapU8
from connectors.tap_wecom.tap import TapWecom
from simulators.common import RateLimiter
from simulators.server import SimulatorServer
from tests.connectors import helpers
from tests.connectors.test_tap_finance import base_config as finance_config
from tests.connectors.test_tap_finance import ratings
from tests.connectors.test_tap_u8 import base_config as u8_config
from tests.connectors.test_tap_u8 import customers
from tests.connectors.test_tap_wecom import base_config as wecom_config
from tests.connectors.test_tap_wecom import contact, message, reps


def run(tap_class: type, config: dict, state: dict | None = None) -> tuple[list[dict], Exception | None]:
    buf = io.StringIO()
    error: Exception | None = None
    with contextlib.redirect_stdout(buf):
        try:
            tap_class(config=config, state=state, parse_env_config=False).sync_all()
        except Exception as exc:
            error = exc
    return [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()], error


def records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


@pytest.fixture(scope="module")
def sims():
    with SimulatorServer({}, rate_limits=helpers.test_rate_limits()) as server:
        yield server


@pytest.fixture
def clean(sims):
    for system, state in sims.sims.items():
        state.faults.clear()
        state.calls.clear()
        state.rejections.clear()
        state.limiter = RateLimiter(helpers.sim_rules(system))
    yield sims
    for state in sims.sims.values():
        state.faults.clear()


# ------------------------------------------------------------------ WeCom


def test_wecom_paces_user_get_calls_to_the_budget(clean):
    users = reps(30)
    clean.set_world({"wecom": {"follow_users": users, "external_contacts": [contact(1, "rep000")]}})
    budget = [{"name": "api", "match": "/cgi-bin/", "max_calls": 12, "window_seconds": 0.5}]
    clean.sims["wecom"].limiter = RateLimiter(helpers.sim_rules("wecom", budget))
    start = time.monotonic()
    messages, error = run(TapWecom, wecom_config(clean.urls["wecom"], rate_limits=budget))
    assert error is None
    assert [r["userid"] for r in records(messages, "follow_users")] == [u["userid"] for u in users]
    assert not clean.sims["wecom"].rejections
    assert time.monotonic() - start >= 1.0  # ~35 calls at 12 per 0.5 s


WECOM_FAULTS = {
    "busy": {"code": -1},
    "rate": {"code": 45009, "count": 2},
    "token expired mid-sync": {"kind": "expire_token"},
    "truncated": {"kind": "truncate"},
    "reset": {"kind": "reset"},
    "gateway 429 + Retry-After": {"kind": "http", "status": 429, "retry_after": "1"},
}


@pytest.mark.parametrize("fault", WECOM_FAULTS.values(), ids=WECOM_FAULTS.keys())
def test_wecom_survives_faults_with_exact_data(clean, fault):
    live = [message(s) for s in range(1, 26)]
    clean.set_world({"wecom": {"follow_users": reps(3), "messages": live}})
    options = dict(fault)
    clean.inject_fault("wecom", count=options.pop("count", 1), path="msgaudit", skip=1, **options)
    messages, error = run(TapWecom, wecom_config(clean.urls["wecom"], message_batch_size=10))
    assert error is None, error
    assert records(messages, "messages") == live


def test_wecom_messages_checkpoint_each_batch_and_resume(clean):
    live = [message(s) for s in range(1, 26)]
    clean.set_world({"wecom": {"follow_users": reps(1), "messages": live}})
    clean.inject_fault("wecom", code=40001, path="msgaudit", skip=2)  # credentials revoked
    first, error = run(TapWecom, wecom_config(clean.urls["wecom"], message_batch_size=10))
    assert isinstance(error, SourceConfigError) and "corpsecret" in str(error)
    states = [m["value"] for m in first if m["type"] == "STATE"]
    assert states[-1]["bookmarks"]["messages"]["replication_key_value"] == 20
    second, error = run(TapWecom, wecom_config(clean.urls["wecom"], message_batch_size=10),
                        state=states[-1])
    assert error is None
    assert [m["seq"] for m in records(second, "messages")] == list(range(21, 26))


# ------------------------------------------------------------------ finance


FINANCE_FAULTS = {
    "5xx burst": {"code": 503, "count": 3},
    "429 + Retry-After": {"code": 429, "retry_after": "1"},
    "slow": {"kind": "slow", "delay": 0.3},
    "truncated": {"kind": "truncate"},
    "reset": {"kind": "reset"},
    "token expired mid-sync": {"kind": "expire_token"},
}


@pytest.mark.parametrize("fault", FINANCE_FAULTS.values(), ids=FINANCE_FAULTS.keys())
def test_finance_survives_faults_with_exact_data(clean, fault):
    rows = ratings(25)
    clean.set_world({"finance": {"credit_rating": rows}})
    options = dict(fault)
    clean.inject_fault("finance", count=options.pop("count", 1), path="credit-ratings", skip=1,
                       **options)
    start = time.monotonic()
    messages, error = run(TapFinance, finance_config(clean.urls["finance"], page_size=10))
    assert error is None, error
    got = records(messages, "credit_rating")
    assert sorted(r["customer_code"] for r in got) == sorted(r["customer_code"] for r in rows)
    if "retry_after" in fault:
        assert time.monotonic() - start >= 1.0


def test_finance_paces_to_the_budget_and_its_429_carries_retry_after(clean):
    rows = ratings(60)
    clean.set_world({"finance": {"credit_rating": rows}})
    budget = [{"name": "api", "match": "/api/v1/credit-ratings", "max_calls": 3, "window_seconds": 0.5}]
    clean.sims["finance"].limiter = RateLimiter(helpers.sim_rules("finance", budget))
    messages, error = run(TapFinance, finance_config(clean.urls["finance"], page_size=10,
                                                     rate_limits=budget))
    assert error is None
    assert len(records(messages, "credit_rating")) == 60
    assert not clean.sims["finance"].rejections
    # an unpaced client is refused with HTTP 429 and told when to come back (a long window, so
    # a loaded machine that spaces the four calls out still exceeds the budget)
    import requests

    slow_budget = [dict(budget[0], window_seconds=60)]
    clean.sims["finance"].limiter = RateLimiter(helpers.sim_rules("finance", slow_budget))
    response = requests.get(clean.urls["finance"] + "/api/v1/credit-ratings", timeout=5)
    for _ in range(3):
        response = requests.get(clean.urls["finance"] + "/api/v1/credit-ratings", timeout=5)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


# ------------------------------------------------------------------ U8


def test_u8_document_fetches_share_one_budget_across_threads(clean):
    docs = [{"code": f"SO{i:03d}", "date": "2026-11-01", "custcode": "C001",
             "entry": [{"inventory_code": "I1", "quantity": 1}]} for i in range(20)]
    clean.set_world({"u8": {"saleorderlist": docs}})
    budget = [{"name": "api", "match": "/api/", "max_calls": 8, "window_seconds": 0.5}]
    clean.sims["u8"].limiter = RateLimiter(helpers.sim_rules("u8", budget))
    start = time.monotonic()
    messages, error = run(TapU8, u8_config(clean.urls["u8"], resources=["saleorderlist"],
                                           lines_concurrency=4, rate_limits=budget))
    assert error is None
    assert [r["code"] for r in records(messages, "saleorderlist")] == [d["code"] for d in docs]
    assert all(r["entry"] for r in records(messages, "saleorderlist"))
    assert not clean.sims["u8"].rejections
    assert time.monotonic() - start >= 1.0  # 21 calls at 8 per 0.5 s


U8_FAULTS = {
    "429 + Retry-After": {"code": 429, "retry_after": "1"},
    "5xx burst": {"code": 502, "count": 3},
    "busy errcode": {"code": "-1"},
    "truncated": {"kind": "truncate"},
    "token expired mid-sync": {"kind": "expire_token"},
}


@pytest.mark.parametrize("fault", U8_FAULTS.values(), ids=U8_FAULTS.keys())
def test_u8_survives_faults_with_exact_data(clean, fault):
    rows = customers(25)
    clean.set_world({"u8": {"customer": rows}})
    options = dict(fault)
    clean.inject_fault("u8", count=options.pop("count", 1), path="batch_get", skip=1, **options)
    messages, error = run(TapU8, u8_config(clean.urls["u8"], resources=["customer"], page_size=10))
    assert error is None, error
    assert records(messages, "customer") == rows


def test_u8_unknown_errcode_stops_the_source_with_one_line(clean):
    clean.set_world({"u8": {"customer": customers(5)}})
    clean.inject_fault("u8", code="88888", path="batch_get")
    _, error = run(TapU8, u8_config(clean.urls["u8"], resources=["customer"]))
    assert error is not None and "88888" in str(error) and "\n" not in str(error)


def test_finance_checkpoints_each_page_and_resumes_an_interrupted_pass(clean):
    rows = ratings(35)
    clean.set_world({"finance": {"credit_rating": rows}})
    clean.inject_fault("finance", kind="http", status=500, count=1000, path="credit-ratings", skip=2)
    cfg = finance_config(clean.urls["finance"], page_size=10, retry_budget_seconds=0.3)
    first, error = run(TapFinance, cfg)
    assert error is not None and "failed after" in str(error) and "\n" not in str(error)
    states = [m["value"] for m in first if m["type"] == "STATE"]
    open_pass = states[-1]["bookmarks"]["credit_rating"]["open_pass"]
    assert open_pass["page"] == 3
    done = [r["customer_code"] for r in records(first, "credit_rating")]
    assert len(done) == 20
    clean.sims["finance"].faults.clear()
    second, error = run(TapFinance, cfg, state=states[-1])
    assert error is None
    again = [r["customer_code"] for r in records(second, "credit_rating")]
    assert sorted(done + again) == sorted(r["customer_code"] for r in rows)  # none lost, none twice
    final = [m["value"] for m in second if m["type"] == "STATE"][-1]["bookmarks"]["credit_rating"]
    assert "open_pass" not in final
    assert final["replication_key_value"] == max(r["rated_at"] for r in rows)
