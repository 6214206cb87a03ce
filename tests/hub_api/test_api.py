from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import insert

from hub_api.app import create_app
from hub_core.schema import customer, customer_xref, stg_opportunity
from quality.reconcile import reconcile


def test_customers_and_discrepancies_over_http(engine, warehouse_url):
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": "C1", "name": "恒通建材", "uscc": None,
                                         "owner_employee_id": None, "record_count": 1, "needs_review": False}])
        conn.execute(insert(customer_xref), [{"ref": "crm:AccountObj:1", "customer_id": "C1", "system": "crm",
                                              "match_method": "uscc"}])
        t = datetime(2026, 11, 20, tzinfo=timezone.utc)
        conn.execute(insert(stg_opportunity), [{
            "ref": "crm:NewOpportunityObj:o1", "opp_id": "o1", "customer_id": "C1", "amount_cents": 123456,
            "status": "won", "close_ms": int((t - timedelta(days=3)).timestamp() * 1000),
            "close_day": (t - timedelta(days=3)).date(), "is_deleted": False}])
    reconcile(engine, as_of=t)
    client = TestClient(create_app(warehouse_url))
    assert client.get("/health").json() == {"status": "ok", "customers": 1}
    assert client.get("/customers").json()[0]["name"] == "恒通建材"
    assert client.get("/customers/C1").json()["refs"] == [{"ref": "crm:AccountObj:1", "match_method": "uscc"}]
    assert client.get("/customers/nope").status_code == 404
    [item] = client.get("/discrepancies").json()
    assert (item["rule"], item["amount_cny"], item["customer_name"]) == ("R1", "1234.56", "恒通建材")


def test_customer_paging(engine, warehouse_url):
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": f"C{i:03d}", "name": f"客户{i}", "uscc": None,
                                         "owner_employee_id": None, "record_count": 1, "needs_review": False}
                                        for i in range(5)])
    client = TestClient(create_app(warehouse_url))
    page = client.get("/customers", params={"limit": 2, "offset": 2}).json()
    assert [c["customer_id"] for c in page] == ["C002", "C003"]
    assert client.get("/customers", params={"limit": 0}).status_code == 422
