"""CRM (Fenxiang Xiaoke) simulator: tokens, query filters, paging, errors."""

import time

import httpx
import pytest

from simulators import crm
from simulators.credentials import CRM
from simulators.server import SimulatorServer

TOKEN_BODY = {"appId": CRM.app_id, "appSecret": CRM.app_secret, "permanentCode": CRM.permanent_code}


def make_world() -> dict:
    opp = [
        {"_id": "o1", "name": "Alpha pump", "owner": ["1000"], "amount": 100000,
         "last_modified_time": 1000, "sales_stage": "3", "life_status": "normal"},
        {"_id": "o2", "name": "Beta valve", "owner": ["1001"], "amount": 50000.5,
         "last_modified_time": 2000, "sales_stage": "4", "life_status": "normal"},
        {"_id": "o3", "name": "Gamma pump line", "owner": ["1000", "1002"], "amount": 250000,
         "last_modified_time": 3000, "sales_stage": "1", "life_status": "invalid", "remark": ""},
        {"_id": "o4", "name": "Delta", "owner": [], "amount": 10,
         "last_modified_time": 4000, "sales_stage": "5", "remark": None},
    ]
    return {
        "meta": {"now": "2026-11-20T09:00:00+08:00"},
        "crm": {
            "NewOpportunityObj": opp,
            "AccountObj": [{"_id": f"a{i:02d}", "name": f"Account {i}"} for i in range(1, 8)],
            "Project__c": [{"_id": "p1", "name": "Custom"}],
        },
    }


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(make_world()) as sim:
        yield sim


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.urls["crm"]) as http:
        yield http


@pytest.fixture
def token(client):
    body = client.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()
    return body


def query(client, token, obj="NewOpportunityObj", custom=False, **info):
    info.setdefault("limit", 100)
    info.setdefault("offset", 0)
    body = {
        "corpAccessToken": token["corpAccessToken"], "corpId": token["corpId"],
        "currentOpenUserId": CRM.current_open_user_id,
        "data": {"dataObjectApiName": obj, "find_explicit_total_num": True,
                 "search_query_info": info},
    }
    path = "/cgi/crm/custom/v2/data/query" if custom else "/cgi/crm/v2/data/query"
    response = client.post(path, json=body)
    assert response.status_code == 200
    return response.json()


def ids(result) -> list[str]:
    return [r["_id"] for r in result["data"]["dataList"]]


def test_token_shape(token):
    assert token["errorCode"] == 0
    assert token["corpId"] == CRM.corp_id
    assert token["expiresIn"] == 7200
    assert len(token["corpAccessToken"]) >= 16


def test_tokens_are_random_per_issue(client, token):
    again = client.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()
    assert again["corpAccessToken"] != token["corpAccessToken"]


def test_bad_app_secret(client):
    body = client.post("/cgi/corpAccessToken/get/V2", json={**TOKEN_BODY, "appSecret": "x"})
    assert body.status_code == 200
    assert body.json()["errorCode"] == 10006


@pytest.mark.parametrize(
    ("field", "op", "values", "expected"),
    [
        ("sales_stage", "EQ", ["3"], ["o1"]),
        ("owner", "EQ", ["1000"], ["o1", "o3"]),
        ("life_status", "N", ["normal"], ["o3", "o4"]),
        ("last_modified_time", "GT", ["2000"], ["o3", "o4"]),
        ("last_modified_time", "GTE", ["2000"], ["o2", "o3", "o4"]),
        ("last_modified_time", "LT", ["2000"], ["o1"]),
        ("last_modified_time", "LTE", ["2000"], ["o1", "o2"]),
        ("amount", "GT", ["9"], ["o1", "o2", "o3", "o4"]),  # numeric, not string, comparison
        ("name", "LIKE", ["pump"], ["o1", "o3"]),
        ("name", "NLIKE", ["pump"], ["o2", "o4"]),
        ("life_status", "IS", [], ["o4"]),
        ("life_status", "ISN", [], ["o1", "o2", "o3"]),
        ("sales_stage", "IN", ["1", "5"], ["o3", "o4"]),
        ("sales_stage", "NIN", ["1", "5"], ["o1", "o2"]),
        ("amount", "BETWEEN", ["50000", "100000"], ["o1", "o2"]),
        ("amount", "NBETWEEN", ["50000", "100000"], ["o3", "o4"]),
        ("name", "STARTWITH", ["Gamma"], ["o3"]),
        ("name", "ENDWITH", ["valve"], ["o2"]),
        ("owner", "HASANYOF", ["1002", "1001"], ["o2", "o3"]),
        ("owner", "NHASANYOF", ["1000"], ["o2", "o4"]),
    ],
)
def test_filter_operators(client, token, field, op, values, expected):
    flt = {"field_name": field, "operator": op, "field_values": values}
    result = query(client, token, filters=[flt])
    assert result["errorCode"] == 0, result
    assert ids(result) == expected
    assert result["data"]["total"] == len(expected)


def test_every_documented_operator_is_supported():
    assert set(crm.OPERATORS) == {
        "EQ", "N", "GT", "GTE", "LT", "LTE", "LIKE", "NLIKE", "IS", "ISN", "IN", "NIN",
        "BETWEEN", "NBETWEEN", "STARTWITH", "ENDWITH", "HASANYOF", "NHASANYOF"}


def test_filters_combine_with_and(client, token):
    result = query(client, token, filters=[
        {"field_name": "owner", "operator": "HASANYOF", "field_values": ["1000"]},
        {"field_name": "life_status", "operator": "EQ", "field_values": ["normal"]},
    ])
    assert ids(result) == ["o1"]


def test_orders_projection_and_empty_fields(client, token):
    result = query(client, token, orders=[{"fieldName": "amount", "isAsc": False}],
                   fieldProjection=["name", "remark"])
    assert ids(result) == ["o3", "o1", "o2", "o4"]
    # _id is always kept; empty/None remark omitted; unprojected fields dropped
    assert result["data"]["dataList"][0] == {"_id": "o3", "name": "Gamma pump line"}
    full = query(client, token, filters=[{"field_name": "_id", "operator": "EQ",
                                          "field_values": ["o4"]}])
    assert "remark" not in full["data"]["dataList"][0]
    assert "owner" not in full["data"]["dataList"][0]  # empty list omitted


def test_offset_paging(client, token):
    order = [{"fieldName": "_id", "isAsc": True}]
    first = query(client, token, obj="AccountObj", limit=3, offset=0, orders=order)
    second = query(client, token, obj="AccountObj", limit=3, offset=3, orders=order)
    assert ids(first) == ["a01", "a02", "a03"]
    assert ids(second) == ["a04", "a05", "a06"]
    assert first["data"]["total"] == 7
    assert (first["data"]["offset"], first["data"]["limit"]) == (0, 3)


def test_deep_paging_by_id(client, token):
    seen, last = [], None
    while True:
        filters = [] if last is None else [
            {"field_name": "_id", "operator": "GT", "field_values": [last]}]
        page = ids(query(client, token, obj="AccountObj", limit=3, offset=0, filters=filters,
                         orders=[{"fieldName": "_id", "isAsc": True}]))
        seen += page
        if len(page) < 3:
            break
        last = page[-1]
    assert seen == [f"a{i:02d}" for i in range(1, 8)]


@pytest.mark.parametrize(
    ("limit", "offset", "code"),
    [(101, 0, 10001), (0, 0, 10001), (3, 4, 10001), (3, -3, 10001), (100, 10100, 10013)],
)
def test_paging_errors(client, token, limit, offset, code):
    assert query(client, token, limit=limit, offset=offset)["errorCode"] == code


def test_offset_10000_is_allowed(client, token):
    result = query(client, token, limit=100, offset=10000)
    assert result["errorCode"] == 0
    assert result["data"]["dataList"] == []


def test_bad_filter_is_a_parameter_error(client, token):
    bad = [{"field_name": "amount", "operator": "GT", "field_values": [5]}]
    assert query(client, token, filters=bad)["errorCode"] == 10001
    bad = [{"field_name": "amount", "operator": "ABOUT", "field_values": ["5"]}]
    assert query(client, token, filters=bad)["errorCode"] == 10001


def test_objects_and_endpoints(client, token):
    assert query(client, token, obj="NoSuchObj")["errorCode"] == 10004
    assert query(client, token, obj="ContractObj")["data"]["dataList"] == []  # known, empty
    assert ids(query(client, token, obj="Project__c", custom=True)) == ["p1"]
    assert query(client, token, obj="Project__c")["errorCode"] == 10004
    assert query(client, token, obj="AccountObj", custom=True)["errorCode"] == 10004


def test_token_errors(client, token, server):
    assert query(client, {**token, "corpAccessToken": "nope"})["errorCode"] == 20016
    assert query(client, {**token, "corpId": "FSCID_OTHER"})["errorCode"] == 20017
    server.expire_tokens("crm")
    assert query(client, token)["errorCode"] == 20016
    fresh = client.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()
    assert query(client, fresh)["errorCode"] == 0


def test_world_mutation_is_seen_on_next_request(client, token, server):
    opp = server.world.data["crm"]["NewOpportunityObj"][0]
    before = opp["amount"]
    opp["amount"] = 5
    try:
        flt = [{"field_name": "_id", "operator": "EQ", "field_values": ["o1"]}]
        assert query(client, token, filters=flt)["data"]["dataList"][0]["amount"] == 5
    finally:
        opp["amount"] = before


def test_fault_injection(client, token, server):
    server.inject_fault("crm", count=2, code=30004, path="/data/query")
    assert client.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()["errorCode"] == 0
    assert query(client, token)["errorCode"] == 30004
    assert query(client, token)["errorCode"] == 30004
    assert query(client, token)["errorCode"] == 0
    server.inject_fault("crm")
    assert query(client, token)["errorCode"] == -1


def test_short_token_ttl_and_rate_limits():
    with SimulatorServer(make_world(), token_ttl=0.2, enforce_rate_limits=True) as sim, \
            httpx.Client(base_url=sim.urls["crm"]) as http:
        token = http.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()
        assert token["expiresIn"] == 1
        assert query(http, token)["errorCode"] == 0
        time.sleep(0.3)
        assert query(http, token)["errorCode"] == 20016
        codes = [http.post("/cgi/corpAccessToken/get/V2", json=TOKEN_BODY).json()["errorCode"]
                 for _ in range(10)]
        assert codes == [0] * 9 + [14001]  # 10 per minute, one already used above
