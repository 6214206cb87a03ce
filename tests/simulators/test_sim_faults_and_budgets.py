"""Simulator fault kinds and per-system call budgets (common.GuardMiddleware)."""

from __future__ import annotations

import time

import httpx
import pytest

from simulators.common import RateRule
from simulators.credentials import FINANCE, U8, WECOM
from simulators.server import SimulatorServer

WORLD = {
    "finance": {"credit_rating": [{"customer_code": "C1", "rating": "A", "rated_at": "2026-11-01"}]},
    "u8": {"customer": [{"code": "C1", "name": "甲"}]},
    "wecom": {"follow_users": [{"userid": "rep1", "name": "张"}]},
}


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(WORLD) as sim:
        yield sim


@pytest.fixture
def sim(server):
    for state in server.sims.values():
        state.faults.clear()
    yield server
    for state in server.sims.values():
        state.faults.clear()


def finance_token(sim: SimulatorServer) -> str:
    body = {"client_id": FINANCE.client_id, "client_secret": FINANCE.client_secret}
    return httpx.post(sim.urls["finance"] + "/api/v1/auth/token", json=body).json()["data"]["access_token"]


def ratings(sim: SimulatorServer, token: str, timeout: float = 5) -> httpx.Response:
    return httpx.get(sim.urls["finance"] + "/api/v1/credit-ratings",
                     headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def test_error_with_status_and_retry_after(sim):
    token = finance_token(sim)
    sim.inject_fault("finance", code=429, retry_after=2, path="credit-ratings")
    response = ratings(sim, token)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert ratings(sim, token).status_code == 200


def test_gateway_http_fault_is_plain_text(sim):
    token = finance_token(sim)
    sim.inject_fault("finance", kind="http", status=502, count=2, path="credit-ratings")
    first, second = ratings(sim, token), ratings(sim, token)
    assert (first.status_code, second.status_code) == (502, 502)
    assert first.headers["content-type"].startswith("text/plain")
    assert ratings(sim, token).json()["code"] == 0


def test_skip_lets_calls_through_before_the_fault(sim):
    token = finance_token(sim)
    sim.inject_fault("finance", code=503, skip=2, path="credit-ratings")
    assert [ratings(sim, token).status_code for _ in range(4)] == [200, 200, 503, 200]


def test_slow_reply(sim):
    token = finance_token(sim)
    sim.inject_fault("finance", kind="slow", delay=0.4, path="credit-ratings")
    start = time.monotonic()
    assert ratings(sim, token).json()["code"] == 0
    assert time.monotonic() - start >= 0.4


def test_reset_breaks_the_connection_mid_reply(sim):
    token = finance_token(sim)
    sim.inject_fault("finance", kind="reset", path="credit-ratings")
    with pytest.raises(httpx.HTTPError):
        ratings(sim, token)
    assert ratings(sim, token).status_code == 200


def test_truncated_body_is_valid_http_but_not_json(sim):
    token = finance_token(sim)
    whole = ratings(sim, token).content
    sim.inject_fault("finance", kind="truncate", path="credit-ratings")
    cut = ratings(sim, token)
    assert cut.status_code == 200
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        cut.json()


def test_expire_token_fault_expires_tokens_mid_sync(sim):
    params = {"corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}
    token = httpx.get(sim.urls["wecom"] + "/cgi-bin/gettoken", params=params).json()["access_token"]
    url = sim.urls["wecom"] + "/cgi-bin/externalcontact/get_follow_user_list"
    sim.inject_fault("wecom", kind="expire_token", skip=1, path="get_follow_user_list")
    assert httpx.get(url, params={"access_token": token}).json()["errcode"] == 0
    assert httpx.get(url, params={"access_token": token}).json()["errcode"] == 42001


def test_unknown_fault_kind_is_refused(sim):
    with pytest.raises(ValueError, match="fault kind"):
        sim.inject_fault("crm", kind="explode")


def test_u8_budget_answers_429_with_retry_after():
    rules = {"u8": [RateRule("/api/", 2, 30, 429, per_path=False)]}
    with SimulatorServer(WORLD, rate_limits=rules) as sim:
        params = {"from_account": U8.from_account, "app_key": U8.app_key, "app_secret": U8.app_secret}
        token = httpx.get(sim.urls["u8"] + "/system/token", params=params).json()["token"]["id"]
        query = {**params, "to_account": U8.to_account, "token": token}
        statuses = [httpx.get(sim.urls["u8"] + path, params=query).status_code
                    for path in ("/api/customer/batch_get", "/api/person/batch_get",
                                 "/api/customer/batch_get")]
        assert statuses[:2] != [429, 429] and statuses[2] == 429  # shared by every /api/ path
        last = httpx.get(sim.urls["u8"] + "/api/customer/batch_get", params=query)
        assert 1 <= int(last.headers["Retry-After"]) <= 30
        assert sim.sims["u8"].rejections["/api/customer/batch_get"] == 2


def test_every_system_has_a_default_budget():
    with SimulatorServer(WORLD, enforce_rate_limits=True) as sim:
        for system in ("crm", "u8", "finance", "wecom"):
            assert sim.sims[system].limiter is not None, system
            assert sim.sims[system].limiter.rules


def test_rate_limits_for_an_unknown_system_are_refused():
    with pytest.raises(ValueError, match="unknown systems"):
        SimulatorServer(WORLD, rate_limits={"erp": []})
