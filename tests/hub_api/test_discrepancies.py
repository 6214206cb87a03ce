"""Listing discrepancies (filters, sorts, keyset pages) and working them (acknowledge, resolve)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import insert

from hub_api.app import create_app
from hub_api.keys import issue_key
from hub_core.schema import customer, customer_xref
from quality.reconcile import reconcile
from tests.hub_api.test_scope import _walk


def test_sort_by_amount_pages_in_order_without_gaps(hub):
    items, _ = _walk(hub, "hq", "/discrepancies", sort="amount")
    amounts = [Decimal(i["amount_cny"]) for i in items]
    assert amounts == sorted(amounts, reverse=True) and len(items) == 37
    ties = [(Decimal(i["amount_cny"]), i["discrepancy_id"]) for i in items]
    assert ties == sorted(ties, key=lambda t: (-t[0], t[1]))


def test_sort_by_age_oldest_first(hub):
    items, _ = _walk(hub, "region_manager", "/discrepancies", sort="age")
    seen = [(i["first_seen"], i["discrepancy_id"]) for i in items]
    assert seen == sorted(seen) and len(items) == 21


def test_filters_combine(hub):
    body = hub.get("hq", "/discrepancies", rule=["R1", "R7"], severity="red", region="华南", limit=500).json()
    assert {i["rule"] for i in body["items"]} == {"R1"}
    assert {i["owner"] for i in body["items"]} == {"陈静"}
    assert body["total"] == len(body["items"]) == 4
    assert hub.get("hq", "/discrepancies", status="acknowledged").json()["total"] == 0


def test_cursor_of_one_sort_is_refused_by_another(hub):
    cursor = hub.get("hq", "/discrepancies", sort="amount", limit=1).json()["next_cursor"]
    response = hub.get("hq", "/discrepancies", sort="age", cursor=cursor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_acknowledge_then_resolve_with_comments_and_audit(hub):
    did = "R1|crm:Obj:3"  # C03 belongs to rep E1
    post = hub.client.post
    response = post(f"/discrepancies/{did}/ack", json={"comment": "calling the customer"}, headers=hub.as_("rep"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    again = post(f"/discrepancies/{did}/ack", json={"comment": "again"}, headers=hub.as_("rep"))
    assert again.status_code == 409
    response = post(f"/discrepancies/{did}/resolve", json={"comment": "order entered in U8"},
                    headers=hub.as_("region_manager"))
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"] is not None
    assert [(n["action"], n["comment"]) for n in body["notes"]] == [
        ("acknowledged", "calling the customer"), ("resolved", "order entered in U8")]
    assert body["notes"][0]["actor"].startswith("test-rep (")
    assert post(f"/discrepancies/{did}/resolve", json={"comment": "x"}, headers=hub.as_("hq")).status_code == 409
    assert hub.get("hq", "/discrepancies", status="resolved").json()["total"] == 1
    events = hub.get("admin", "/audit", target=f"discrepancy:{did}").json()["items"]
    assert [(e["action"], e["detail"]["status"]) for e in events] == [
        ("discrepancy.resolved", ["acknowledged", "resolved"]), ("discrepancy.acknowledged", ["open", "acknowledged"])]


def test_a_comment_is_required(hub):
    for body in ({}, {"comment": ""}, {"comment": "x" * 2001}):
        response = hub.client.post("/discrepancies/R1|crm:Obj:0/ack", json=body, headers=hub.as_("hq"))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] == ["body", "comment"]


def test_runs_newest_first_and_detail(hub):
    items, totals = _walk(hub, "dashboard", "/runs")
    assert [r["id"] for r in items] == [5, 4, 3, 2, 1] and totals == {5}
    body = hub.get("hq", "/runs", source="crm").json()
    assert [r["id"] for r in body["items"]] == [5, 1]
    assert hub.get("hq", "/runs", status="failed").json()["total"] == 1
    assert hub.get("hq", "/runs/3").json()["source"] == "finance"
    assert hub.get("hq", "/runs/99").status_code == 404


def test_reconciled_discrepancy_over_http(engine, warehouse_url):
    """The real reconciliation writes what the API serves, money exact and the owner by name."""
    from hub_core.schema_unified import employee, opportunity

    t = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(employee), [{"employee_id": "E1", "name": "王芳", "region": "华东", "linked_by": "own"}])
        conn.execute(insert(customer), [{"customer_id": "C1", "name": "恒通建材", "uscc": None,
                                         "owner_employee_id": "E1", "record_count": 1, "needs_review": False}])
        conn.execute(insert(customer_xref), [{"ref": "crm:AccountObj:1", "customer_id": "C1", "system": "crm",
                                              "match_method": "uscc"}])
        conn.execute(insert(opportunity), [{
            "ref": "crm:NewOpportunityObj:o1", "customer_id": "C1", "amount_cents": 123456,
            "status": "won", "close_at": t - timedelta(days=3),
            "close_day": (t - timedelta(days=3)).date(), "owner_employee_id": "E1", "is_deleted": False}])
        rep = issue_key(conn, name="wang", role="rep", employee_id="E1", created_by="tests")[1]
        other = issue_key(conn, name="li", role="rep", employee_id="E2", created_by="tests")[1]
    reconcile(engine, as_of=t, rules=["R1"])
    client = TestClient(create_app(warehouse_url))
    [item] = client.get("/discrepancies", headers={"Authorization": f"Bearer {rep}"}).json()["items"]
    assert (item["rule"], item["amount_cny"], item["customer_name"], item["owner"]) == ("R1", "1234.56", "恒通建材", "王芳")
    assert client.get("/discrepancies", headers={"Authorization": f"Bearer {other}"}).json()["total"] == 0


def test_a_concurrent_change_wins_once(hub, monkeypatch):
    """If the status changes between reading and writing, the write is refused, not doubled."""
    from sqlalchemy import update as sql_update

    from hub_api import routes_data
    from hub_core.schema import discrepancy

    did = "R1|crm:Obj:0"
    original = routes_data._scoped_discrepancy

    def read_then_someone_else_acts(conn, who, discrepancy_id):
        row = original(conn, who, discrepancy_id)
        with hub.engine.begin() as other:
            other.execute(sql_update(discrepancy).where(discrepancy.c.discrepancy_id == did)
                          .values(status="resolved"))
        return row

    monkeypatch.setattr(routes_data, "_scoped_discrepancy", read_then_someone_else_acts)
    response = hub.client.post(f"/discrepancies/{did}/ack", json={"comment": "mine"}, headers=hub.as_("hq"))
    monkeypatch.undo()
    assert response.status_code == 409
    body = hub.get("hq", f"/discrepancies/{did}").json()
    assert body["status"] == "resolved" and body["notes"] == []
    assert hub.get("admin", "/audit", target=f"discrepancy:{did}").json()["total"] == 0


def test_total_is_counted_on_the_first_page_unless_asked(hub):
    first = hub.get("region_manager", "/discrepancies", limit=2).json()
    assert first["total"] == 21 and first["next_cursor"]
    later = hub.get("region_manager", "/discrepancies", limit=2, cursor=first["next_cursor"]).json()
    assert later["total"] is None and len(later["items"]) == 2  # keyset pages carry the cursor, not a recount
    asked = hub.get("region_manager", "/discrepancies", limit=2, cursor=first["next_cursor"], count="true").json()
    assert asked["total"] == 21 and asked["items"] == later["items"]
    assert hub.get("region_manager", "/discrepancies", limit=2, count="false").json()["total"] is None
    assert hub.get("rep", "/discrepancies", limit=500, rule="R1", count="true").json()["total"] == len(
        hub.get("rep", "/discrepancies", limit=500, rule="R1").json()["items"])
