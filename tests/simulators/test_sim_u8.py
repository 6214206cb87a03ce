"""U8 OpenAPI simulator: string errcodes and page fields, headers-only lists, get, filters."""

import httpx
import pytest

from simulators import u8
from simulators.credentials import U8
from simulators.server import SimulatorServer


def make_world() -> dict:
    return {
        "meta": {"now": "2026-11-20T09:00:00+08:00"},
        "u8": {
            "customer": [
                {"code": f"C{i:03d}", "name": f"客户{i}有限公司", "spec_operator": "P01",
                 "ModifyDate": "2026-10-01"} for i in (5, 1, 3, 2, 4)
            ],
            "saleorderlist": [
                {"code": "SO-002", "date": "2026-11-02", "state": "Approved", "custcode": "C001",
                 "sum": "1130.00", "entry": [{"inventorycode": "I1", "quantity": 1}]},
                {"code": "SO-001", "date": "2026-10-15", "state": "Opening", "custcode": "C002",
                 "sum": 500, "entry": [{"inventorycode": "I2", "quantity": 2}]},
                {"code": "SO-003", "date": "2026-11-10 10:00:00", "state": "Approved",
                 "custcode": "C001", "sum": 99, "entry": []},
            ],
            "saleinvoicelist": [
                {"invoiceno": "INV-9", "date": "2026-11-03", "customercode": "C001", "sum": 1130,
                 "entry": [{"inventorycode": "I1", "quantity": 1, "sum": 1130}]},
            ],
            "oughtreceivelist": [
                {"code": "AR-1", "date": "2026-10-01", "custcode": "C001", "balance": 100},
                {"code": "AR-2", "date": "2026-10-05", "custcode": "C002", "balance": 0},
            ],
            "inventory": [
                {"code": "I1", "name": "Pump", "ModifyDate": "2026-09-01"},
                {"code": "I2", "name": "Valve", "ModifyDate": "2026-11-01 08:00:00"},
            ],
            "currentstock": [
                {"whcode": "W2", "invcode": "I1", "qty": 5},
                {"whcode": "W1", "invcode": "I2", "qty": 7, "batch": "B1"},
                {"whcode": "W1", "invcode": "I1", "qty": 3},
            ],
        },
    }


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(make_world()) as sim:
        yield sim


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.urls["u8"]) as http:
        yield http


def get_token(client) -> str:
    body = client.get("/system/token", params={
        "from_account": U8.from_account, "app_key": U8.app_key, "app_secret": U8.app_secret,
    }).json()
    assert body["errcode"] == "0"
    return body["token"]["id"]


@pytest.fixture
def token(client):
    return get_token(client)


def call(client, token, resource, op="batch_get", **params):
    base = {"from_account": U8.from_account, "to_account": U8.to_account,
            "app_key": U8.app_key, "token": token, "ds_sequence": 1}
    return client.get(f"/api/{resource}/{op}", params={**base, **params})


def batch(client, token, resource, **params):
    response = call(client, token, resource, **params)
    assert response.status_code == 200
    return response.json()


def test_token_shape(client):
    body = client.get("/system/token", params={
        "from_account": U8.from_account, "app_key": U8.app_key, "app_secret": U8.app_secret,
    }).json()
    assert body["errcode"] == "0" and body["errmsg"] == ""
    assert body["token"]["expiresIn"] == 7200


def test_bad_secret_is_a_string_errcode(client):
    body = client.get("/system/token", params={
        "from_account": U8.from_account, "app_key": U8.app_key, "app_secret": "wrong",
    }).json()
    assert isinstance(body["errcode"], str) and body["errcode"] != "0"


def test_batch_get_pages_are_strings_and_ordered_by_code(client, token):
    first = batch(client, token, "customer", page_index=1, rows_per_page=2)
    assert first["errcode"] == "0"
    assert (first["page_index"], first["rows_per_page"]) == ("1", "2")
    assert (first["row_count"], first["page_count"]) == ("5", "3")
    assert [c["code"] for c in first["customer"]] == ["C001", "C002"]
    last = batch(client, token, "customer", page_index=3, rows_per_page=2)
    assert [c["code"] for c in last["customer"]] == ["C005"]


def test_default_page_size_is_20(client, token):
    body = batch(client, token, "customer")
    assert (body["page_index"], body["rows_per_page"], body["page_count"]) == ("1", "20", "1")


def test_no_data_is_20002(client, token):
    assert batch(client, token, "acceptlist")["errcode"] == "20002"
    assert batch(client, token, "customer", page_index=9)["errcode"] == "20002"
    assert batch(client, token, "customer", name="nobody")["errcode"] == "20002"


def test_batch_get_is_headers_only_and_get_has_entry(client, token):
    orders = batch(client, token, "saleorderlist")["saleorderlist"]
    assert [o["code"] for o in orders] == ["SO-001", "SO-002", "SO-003"]
    assert all("entry" not in o for o in orders)
    one = call(client, token, "saleorder", "get", id="SO-002").json()
    assert one["errcode"] == "0"
    assert one["saleorder"]["entry"] == [{"inventorycode": "I1", "quantity": 1}]
    same = call(client, token, "saleorderlist", "get", id="SO-002").json()
    assert same["saleorderlist"] == one["saleorder"]
    assert call(client, token, "saleorder", "get", id="SO-404").json()["errcode"] == "20002"


def test_natural_keys(client, token):
    invoice = call(client, token, "saleinvoice", "get", id="INV-9").json()
    assert invoice["saleinvoice"]["sum"] == 1130
    stock = batch(client, token, "currentstock")["currentstock"]
    assert [(s["invcode"], s["whcode"]) for s in stock] == [
        ("I1", "W1"), ("I1", "W2"), ("I2", "W1")]
    row = call(client, token, "currentstock", "get", id="I2|W1|B1").json()
    assert row["currentstock"]["qty"] == 7


@pytest.mark.parametrize(
    ("resource", "params", "expected"),
    [
        ("customer", {"code_begin": "C002", "code_end": "C004"}, ["C002", "C003", "C004"]),
        ("customer", {"name": "客户3"}, ["C003"]),
        ("saleorderlist", {"date_begin": "2026-11-01", "date_end": "2026-11-10"},
         ["SO-002", "SO-003"]),
        ("saleorderlist", {"state": "Approved", "date_end": "2026-11-05"}, ["SO-002"]),
        ("oughtreceivelist", {"cust_vendor_code": "C002"}, ["AR-2"]),
        ("oughtreceivelist", {"date_begin": "2026-10-02"}, ["AR-2"]),
        ("inventory", {"modifydate_begin": "2026-10-01"}, ["I2"]),
        ("inventory", {"modifydate_end": "2026-10-01"}, ["I1"]),
        ("currentstock", {"invcode_begin": "I2", "invcode_end": "I2"}, ["I2"]),
        ("saleinvoicelist", {"date_begin": "2026-11-03", "date_end": "2026-11-03"}, ["INV-9"]),
        # customers have no date filter in the OpenAPI: the parameter is ignored, not applied
        ("customer", {"date_begin": "2026-11-01"}, ["C001", "C002", "C003", "C004", "C005"]),
        ("inventory", {"date_begin": "2026-11-01"}, ["I1", "I2"]),
    ],
)
def test_filters(client, token, resource, params, expected):
    body = batch(client, token, resource, **params)
    assert body["errcode"] == "0", body
    key = {"saleinvoicelist": "invoiceno", "currentstock": "invcode"}.get(resource, "code")
    assert [r[key] for r in body[resource]] == expected


def test_parameter_and_resource_errors(client, token):
    assert batch(client, token, "customer", rows_per_page=0)["errcode"] == "40002"
    assert batch(client, token, "saleorderlist", date_begin="11/01/2026")["errcode"] == "40002"
    assert batch(client, token, "nosuchlist")["errcode"] == "40004"
    assert batch(client, token, "customer", to_account="someone")["errcode"] == "40001"


def test_token_errors_and_refresh(client, token, server):
    assert batch(client, "bogus", "customer")["errcode"] == "30001"
    server.expire_tokens("u8")
    assert batch(client, token, "customer")["errcode"] == "30001"
    assert batch(client, get_token(client), "customer")["errcode"] == "0"


def test_world_mutation_is_seen(client, token, server):
    customers = server.world.data["u8"]["customer"]
    customers.append({"code": "C006", "name": "新客户"})
    try:
        assert batch(client, token, "customer")["row_count"] == "6"
    finally:
        customers.pop()


def test_fault_injection_http_status_and_errcode(client, token, server):
    server.inject_fault("u8", code=429, path="/api/")
    response = call(client, token, "customer")
    assert response.status_code == 429
    server.inject_fault("u8")
    assert call(client, token, "customer").status_code == 500
    server.inject_fault("u8", code="30001")
    assert batch(client, token, "customer")["errcode"] == "30001"
    assert batch(client, token, "customer")["errcode"] == "0"


def test_currentstock_accepts_long_field_names():
    row = {"warehouse_code": "01", "inventory_code": "I9", "quantity": 3}
    assert u8.natural_key("currentstock", row) == "I9|01"
    (predicate,) = u8.build_filters("currentstock", {"invcode_begin": "I5"})
    assert predicate(row)


@pytest.mark.parametrize("fault", ["99999", "truncated"])
def test_document_faults_hit_one_document_until_removed(client, token, server, fault):
    faults = server.sims["u8"].document_faults
    faults["SO-002"] = fault
    try:
        for _ in range(2):
            broken = call(client, token, "saleorder", "get", id="SO-002")
            assert broken.status_code == 200
            if fault == "truncated":
                with pytest.raises(ValueError):
                    broken.json()
            else:
                assert broken.json()["errcode"] == "99999"
        assert call(client, token, "saleorder", "get", id="SO-001").json()["errcode"] == "0"
    finally:
        faults.clear()
    assert call(client, token, "saleorder", "get", id="SO-002").json()["errcode"] == "0"


def test_batch_get_order_follows_records_added_and_edited(token):
    world = make_world()
    with SimulatorServer(world) as sim, httpx.Client(base_url=sim.urls["u8"]) as http:
        tok = get_token(http)
        codes = [c["code"] for c in batch(http, tok, "customer", rows_per_page=50)["customer"]]
        assert codes == sorted(codes)
        sim.world.data["u8"]["customer"].append({"code": "C000", "name": "新客户"})
        again = batch(http, tok, "customer", rows_per_page=50)["customer"]
        assert [c["code"] for c in again] == ["C000", *codes]
        first = next(c for c in sim.world.data["u8"]["customer"] if c["code"] == codes[0])
        first["name"] = "改名"  # a field edit is served live
        named = batch(http, tok, "customer", rows_per_page=50, code_begin=codes[0], code_end=codes[0])
        assert named["customer"][0]["name"] == "改名"
