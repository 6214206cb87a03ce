"""SimulatorServer: startup on a free port, urls, world swapping, token expiry, clean stop."""

import json

import httpx
import pytest

from simulators.app import create_app
from simulators.credentials import FINANCE, WECOM
from simulators.server import SimulatorServer


def finance_world(*codes: str) -> dict:
    return {"finance": {"credit_rating": [
        {"customer_code": c, "rating": "A", "rated_at": "2026-11-01"} for c in codes]}}


def finance_codes(sim: SimulatorServer) -> list[str]:
    token = httpx.post(sim.urls["finance"] + "/api/v1/auth/token", json={
        "client_id": FINANCE.client_id, "client_secret": FINANCE.client_secret,
    }).json()["data"]["access_token"]
    body = httpx.get(sim.urls["finance"] + "/api/v1/credit-ratings",
                     headers={"Authorization": f"Bearer {token}"}).json()
    return [r["customer_code"] for r in body["data"]["items"]]


def test_serves_a_world_file_on_a_free_port_and_stops(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps(finance_world("C1")), encoding="utf-8")
    with SimulatorServer(path) as sim:
        assert sim.base_url == f"http://127.0.0.1:{sim.port}" and sim.port > 0
        assert sim.urls == {name: f"{sim.base_url}/{name}"
                            for name in ("crm", "u8", "finance", "wecom")}
        assert httpx.get(sim.base_url + "/healthz").json()["status"] == "ok"
        assert finance_codes(sim) == ["C1"]
        base = sim.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/healthz", timeout=2)


def test_set_world_is_seen_on_the_next_request():
    with SimulatorServer(finance_world("C1")) as sim:
        assert finance_codes(sim) == ["C1"]
        sim.set_world(finance_world("C7", "C8"))
        assert finance_codes(sim) == ["C7", "C8"]
        assert sim.world.records("finance", "credit_rating")[0]["customer_code"] == "C7"


def test_expire_all_tokens_and_call_counts():
    with SimulatorServer({}) as sim:
        wecom = sim.urls["wecom"]
        token = httpx.get(wecom + "/cgi-bin/gettoken", params={
            "corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}).json()["access_token"]
        sim.expire_tokens()
        body = httpx.get(wecom + "/cgi-bin/externalcontact/get_follow_user_list",
                         params={"access_token": token}).json()
        assert body["errcode"] == 42001
        assert sim.sims["wecom"].calls["/cgi-bin/gettoken"] == 1


def test_app_level_hooks():
    app = create_app({})
    assert set(app.state.sims) == {"crm", "u8", "finance", "wecom"}
    token = app.state.sims["u8"].tokens.issue(from_account="a", app_key="b")
    app.state.expire_tokens()
    assert app.state.sims["u8"].tokens.check(token)[0] == "expired"
