"""Finance credit-rating simulator: token, paging, updated_since, 401s."""

import httpx
import pytest

from simulators.credentials import FINANCE
from simulators.server import SimulatorServer


def rating(code: str, rated_at: str, rating: str = "A") -> dict:
    return {"customer_code": code, "uscc": "91110108551385082Q", "customer_name": f"客户{code}",
            "rating": rating, "previous_rating": "AA", "credit_limit": 100000,
            "credit_days": 30, "rated_at": rated_at}


@pytest.fixture(scope="module")
def server():
    world = {"finance": {"credit_rating": [
        rating("C3", "2026-11-01"), rating("C1", "2026-10-01"), rating("C2", "2026-11-01"),
        rating("C4", "2026-11-15", "BB"), rating("C5", "2026-09-30"),
    ]}}
    with SimulatorServer(world) as sim:
        yield sim


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.urls["finance"]) as http:
        yield http


def get_token(client) -> str:
    response = client.post("/api/v1/auth/token", json={
        "client_id": FINANCE.client_id, "client_secret": FINANCE.client_secret})
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0 and body["data"]["expires_in"] == 7200
    return body["data"]["access_token"]


@pytest.fixture
def token(client):
    return get_token(client)


def ratings(client, token, **params):
    return client.get("/api/v1/credit-ratings", params=params,
                      headers={"Authorization": f"Bearer {token}"})


def test_paging(client, token):
    first = ratings(client, token, page=1, page_size=2).json()
    assert first["code"] == 0 and first["message"] == "ok"
    data = first["data"]
    assert (data["page"], data["page_size"], data["total"]) == (1, 2, 5)
    assert [r["customer_code"] for r in data["items"]] == ["C5", "C1"]
    walked = []
    for page in (1, 2, 3, 4):
        walked += ratings(client, token, page=page, page_size=2).json()["data"]["items"]
    assert [r["customer_code"] for r in walked] == ["C5", "C1", "C2", "C3", "C4"]


def test_defaults(client, token):
    data = ratings(client, token).json()["data"]
    assert (data["page"], data["page_size"], len(data["items"])) == (1, 100, 5)


def test_updated_since_is_inclusive(client, token):
    data = ratings(client, token, updated_since="2026-11-01").json()["data"]
    assert [r["customer_code"] for r in data["items"]] == ["C2", "C3", "C4"]
    data = ratings(client, token, updated_since="2026-11-01T00:00:01+08:00").json()["data"]
    assert [r["customer_code"] for r in data["items"]] == ["C4"]


def test_bad_credentials_and_tokens_are_401(client, server):
    bad = client.post("/api/v1/auth/token", json={"client_id": FINANCE.client_id,
                                                  "client_secret": "wrong"})
    assert bad.status_code == 401 and bad.json()["code"] != 0
    missing = client.get("/api/v1/credit-ratings")
    assert missing.status_code == 401 and missing.json()["code"] != 0
    assert ratings(client, "bogus").status_code == 401
    token = get_token(client)
    server.expire_tokens("finance")
    expired = ratings(client, token)
    assert expired.status_code == 401 and expired.json()["code"] != 0
    assert ratings(client, get_token(client)).status_code == 200


def test_bad_parameters_are_400(client, token):
    assert ratings(client, token, page=0).status_code == 400
    assert ratings(client, token, page_size=5000).status_code == 400
    assert ratings(client, token, updated_since="last week").status_code == 400


def test_world_mutation_and_faults(client, token, server):
    server.world.data["finance"]["credit_rating"].append(rating("C6", "2026-11-19"))
    try:
        assert ratings(client, token).json()["data"]["total"] == 6
    finally:
        server.world.data["finance"]["credit_rating"].pop()
    server.inject_fault("finance", code=429)
    assert ratings(client, token).status_code == 429
    assert ratings(client, token).status_code == 200
