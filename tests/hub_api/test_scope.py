"""What each role may and may not see: listings, filters, pagination, counts and detail."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.hub_api.conftest import OWNERS, customer_ids_of

ALL = {f"C{i:02d}" for i in range(len(OWNERS))}
VISIBLE = {
    "admin": ALL, "hq": ALL, "finance": ALL, "dashboard": ALL,
    "region_manager": customer_ids_of({"E1", "E2"}),
    "rep": customer_ids_of({"E1"}),
}


def _walk(hub, role, path, **params) -> tuple[list[dict], set[int]]:
    """Every item of a listing, page by page, and the totals each page reported."""
    items, totals, cursor = [], set(), None
    while True:
        page = hub.get(role, path, limit=2, **params, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items, totals


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_customers_listing_pages_and_counts_stay_in_scope(hub, role):
    items, totals = _walk(hub, role, "/customers")
    ids = [c["customer_id"] for c in items]
    assert ids == sorted(VISIBLE[role])  # no duplicates, none missing, none extra
    assert totals == {len(VISIBLE[role])}
    assert all("owner_employee_id" not in c for c in items)


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_customer_detail_is_404_out_of_scope(hub, role):
    for cid in sorted(ALL):
        response = hub.get(role, f"/customers/{cid}")
        if cid in VISIBLE[role]:
            assert response.status_code == 200
            assert [r["system"] for r in response.json()["refs"]["items"]] == ["crm", "u8"]
        else:
            assert response.status_code == 404
            assert response.json() == {"detail": "no such customer"}


def test_owner_appears_by_name_and_region(hub):
    body = hub.get("hq", "/customers/C02").json()
    assert (body["owner"], body["region"]) == ("陈静", "华南")
    assert hub.get("hq", "/customers/C11").json()["owner"] is None


def test_filters_never_widen_the_scope(hub):
    # A rep filtering for another rep's name or another region finds nothing, and the count agrees.
    for params in ({"owner": "陈静"}, {"region": "华南"}, {"owner": "李强", "region": "华东"}):
        body = hub.get("rep", "/customers", **params).json()
        assert (body["items"], body["total"]) == ([], 0)
        body = hub.get("rep", "/discrepancies", **params).json()
        assert (body["items"], body["total"]) == ([], 0)
    for path in ("/customers", "/discrepancies"):
        for params in ({"region": "华南"}, {"owner": "陈静"}):
            body = hub.get("region_manager", path, **params).json()
            assert (body["items"], body["total"]) == ([], 0), (path, params)
    body = hub.get("region_manager", "/customers", owner="李强").json()
    assert {c["customer_id"] for c in body["items"]} == customer_ids_of({"E2"})
    body = hub.get("hq", "/customers", region="华南").json()
    assert {c["customer_id"] for c in body["items"]} == customer_ids_of({"E3"})


DISCREPANCIES = {"hq": 37, "admin": 37, "dashboard": 37, "region_manager": 21, "rep": 12, "finance": 12}


@pytest.mark.parametrize("role", sorted(DISCREPANCIES))
def test_discrepancies_in_scope_through_pages(hub, role):
    items, totals = _walk(hub, role, "/discrepancies", count=True)  # a total on every page
    assert len(items) == len({i["discrepancy_id"] for i in items}) == DISCREPANCIES[role]
    assert totals == {DISCREPANCIES[role]}
    if role in ("rep", "region_manager"):
        assert {i["customer_id"] for i in items} == VISIBLE[role]
    if role == "finance":
        assert {i["rule"] for i in items} == {"R5"}
        assert hub.get(role, "/discrepancies", rule="R1").json()["total"] == 0


def test_discrepancy_detail_and_actions_are_404_out_of_scope(hub):
    mine, theirs = "R1|crm:Obj:0", "R1|crm:Obj:2"  # C00 is E1's, C02 is E3's
    assert hub.get("rep", f"/discrepancies/{mine}").status_code == 200
    assert hub.get("rep", f"/discrepancies/{theirs}").status_code == 404
    assert hub.get("rep", "/discrepancies/R6|u8:Orphan:1").status_code == 404  # no customer: full scope only
    assert hub.get("hq", "/discrepancies/R6|u8:Orphan:1").status_code == 200
    response = hub.client.post(f"/discrepancies/{theirs}/ack", json={"comment": "mine now"}, headers=hub.as_("rep"))
    assert response.status_code == 404
    assert hub.get("hq", f"/discrepancies/{theirs}").json()["status"] == "open"


@pytest.mark.parametrize(("role", "path", "method"), [
    ("finance", "/discrepancies/R5|crm:Obj:0/ack", "post"),
    ("dashboard", "/discrepancies/R5|crm:Obj:0/resolve", "post"),
    ("finance", "/runs", "get"),
    ("rep", "/runs", "get"),
    ("hq", "/connectors", "get"),
    ("dashboard", "/api-keys", "get"),
    ("region_manager", "/audit", "get"),
])
def test_roles_without_the_permission_get_403(hub, role, path, method):
    kwargs = {"json": {"comment": "x"}} if method == "post" else {}
    response = getattr(hub.client, method)(path, headers=hub.as_(role), **kwargs)
    assert response.status_code == 403
    assert role.split("_")[0] in response.json()["detail"]


def test_scope_is_a_where_clause_of_the_query(hub):
    """The rep's rows are limited by the database, not picked out afterwards in Python."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(hub.engine, "before_cursor_execute", capture)
    try:
        assert hub.get("rep", "/customers", limit=500).json()["total"] == 4
    finally:
        event.remove(hub.engine, "before_cursor_execute", capture)
    listing = [(s, p) for s, p in statements if "FROM customer" in s and "count(*)" not in s.lower()]
    assert listing, statements
    statement, parameters = listing[-1]
    assert "owner_employee_id" in statement.split("WHERE", 1)[1]
    assert "E1" in (parameters.values() if isinstance(parameters, dict) else parameters)
