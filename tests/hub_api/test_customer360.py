"""The 360 view of a customer and the customer filters, over HTTP, on the unified model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mappings.identity.golden import stamp_changes
from tests.hub_api.conftest import OWNERS, T0, customer_ids_of
from tests.hub_api.seed_unified import GRADES, counts

LINKED = ("refs", "contacts", "opportunities", "orders", "invoices", "receivables", "receipts", "credit_ratings",
          "interactions")


def test_detail_has_figures_and_every_source_with_true_totals(hub):
    body = hub.get("hq", "/customers/C09").json()
    assert (body["owner"], body["manager"], body["region"], body["grade"]) == ("李强", "赵敏", "华东", GRADES[9 % 4])
    assert body["figures"]["open_opportunity_cny"] == "9000.00"
    assert body["figures"]["receivable_outstanding_cny"] == "450.00"
    assert body["figures"]["credit_rating_change"] == -1 and body["risks"] == ["overdue", "credit_downgrade"]
    expected = {"refs": 2, **counts(9)}
    assert {name: body[name]["total"] for name in LINKED} == expected
    assert {name: len(body[name]["items"]) for name in LINKED} == {k: min(v, 20) for k, v in expected.items()}
    assert all(not o["ref"].endswith("deleted") for o in body["opportunities"]["items"])
    assert body["opportunities"]["items"][0]["owner"] == "李强"
    assert body["interactions"]["items"][0]["rep"] == "李强"
    assert body["receivables"]["items"][0]["balance_cny"] in ("50.00", "0.00")
    # Never an internal employee id, anywhere in the document.
    assert "owner_employee_id" not in str(body) and "'E2'" not in str(body)


def test_linked_lists_are_bounded_newest_first(hub):
    body = hub.get("hq", "/customers/C11", linked_limit=3).json()
    n = counts(11)
    assert body["interactions"]["total"] == n["interactions"] and len(body["interactions"]["items"]) == 3
    times = [i["occurred_at"] for i in body["interactions"]["items"]]
    assert times == sorted(times, reverse=True)
    first = hub.get("hq", "/customers/C11", linked_limit=100).json()["interactions"]["items"][-1]
    assert len(first["content"]) == 200  # the long first message, cut
    assert hub.get("hq", "/customers/C11", linked_limit=0).json()["contacts"] == {"total": n["contacts"], "items": []}


def test_a_customer_without_a_360_row_is_listed_with_empty_figures(hub):
    from sqlalchemy import delete

    from hub_core.schema_unified import customer_360

    with hub.engine.begin() as conn:
        conn.execute(delete(customer_360).where(customer_360.c.customer_id == "C04"))
    body = hub.get("hq", "/customers/C04").json()
    assert body["figures"] is None and body["grade"] is None and body["owner"] == "李强"
    assert "C04" in {c["customer_id"] for c in hub.get("hq", "/customers", limit=500).json()["items"]}


@pytest.mark.parametrize(("params", "expected"), [
    ({"grade": ["S", "B"]}, {i for i in range(len(OWNERS)) if GRADES[i % 4] in "SB"}),
    ({"risk": "overdue"}, {i for i in range(len(OWNERS)) if i % 3 == 0}),
    ({"risk": ["overdue", "credit_downgrade"]}, {i for i in range(len(OWNERS)) if i % 3 == 0 and i % 4 == 1}),
    ({"risk": "needs_review"}, {3}),
    ({"updated_since": (T0 + timedelta(days=5)).isoformat()}, set(range(5, len(OWNERS)))),
])
def test_customer_filters(hub, params, expected):
    for role, visible in (("hq", set(range(len(OWNERS)))), ("rep", {int(c[1:]) for c in customer_ids_of({"E1"})})):
        body = hub.get(role, "/customers", limit=500, **params).json()
        ids = {int(c["customer_id"][1:]) for c in body["items"]}
        assert ids == expected & visible, (role, params)
        assert body["total"] == len(ids)


def test_listing_shows_risks_and_change_time(hub):
    items = {c["customer_id"]: c for c in hub.get("hq", "/customers", limit=500).json()["items"]}
    assert items["C09"]["risks"] == ["overdue", "credit_downgrade"]
    assert items["C03"]["risks"] == ["overdue", "needs_review"]
    assert items["C02"]["updated_at"].startswith("2026-11-03T00:00:00")
    assert items["C11"]["owner"] is None and items["C11"]["manager"] is None


def test_stamp_changes_keeps_the_time_of_unchanged_customers():
    old = {"A": {"customer_id": "A", "name": "x", "updated_at": T0}, "B": {"customer_id": "B", "name": "y",
                                                                          "updated_at": T0},
           "D": {"customer_id": "D", "name": "w", "updated_at": None}}
    desired = {"A": {"customer_id": "A", "name": "x"}, "B": {"customer_id": "B", "name": "changed"},
               "C": {"customer_id": "C", "name": "new"}, "D": {"customer_id": "D", "name": "w"}}
    now = T0 + timedelta(days=3)
    stamp_changes(desired, old, now)
    assert {k: v["updated_at"] for k, v in desired.items()} == {"A": T0, "B": now, "C": now, "D": now}
