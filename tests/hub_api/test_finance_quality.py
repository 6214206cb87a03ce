"""Finance records and data quality over HTTP: what each role sees, through pages and filters."""

from __future__ import annotations

import pytest

from tests.hub_api.conftest import OWNERS
from tests.hub_api.seed_unified import counts
from tests.hub_api.test_scope import VISIBLE, _walk

FINANCE_ROLES = {**VISIBLE, "rep3": {f"C{i:02d}" for i, o in enumerate(OWNERS) if o == "E3"}}


def _expected(kind: str, customers: set[str]) -> int:
    return sum(counts(int(c[1:]))[kind] for c in customers)


@pytest.mark.parametrize("role", sorted(FINANCE_ROLES))
def test_finance_listings_stay_in_scope_through_pages(hub, role):
    full = role in ("admin", "hq", "finance", "dashboard")
    for path, kind in (("/finance/receivables", "receivables"), ("/finance/receipts", "receipts"),
                       ("/finance/credit-ratings", "credit_ratings")):
        items, totals = _walk(hub, role, path)
        orphan = 1 if full and kind == "receivables" else 0
        assert len(items) == _expected(kind, FINANCE_ROLES[role]) + orphan, (role, path)
        assert totals == {len(items)}
        keys = [(i["ref"], i.get("rated_day")) for i in items]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)  # keyset order, no repeats
        assert {i["customer_id"] for i in items} - {None} == FINANCE_ROLES[role]


def test_finance_filters_never_widen_the_scope(hub):
    # C02 belongs to E3: the rep E1 filtering for it sees nothing, and the count says so.
    for path in ("/finance/receivables", "/finance/receipts", "/finance/credit-ratings"):
        body = hub.get("rep", path, customer_id="C02").json()
        assert (body["items"], body["total"]) == ([], 0)
        assert hub.get("finance", path, customer_id="C02").json()["total"] > 0


def test_finance_filters(hub):
    body = hub.get("finance", "/finance/credit-ratings", current_only=True, downgraded=True, limit=500).json()
    assert {i["customer_id"] for i in body["items"]} == {f"C{i:02d}" for i in range(len(OWNERS)) if i % 4 == 1}
    assert all(i["is_current"] and i["notch_change"] < 0 for i in body["items"])
    body = hub.get("finance", "/finance/receivables", open_only=True, customer_id="C03", limit=500).json()
    assert [i["balance_cny"] for i in body["items"]] == ["50.00", "50.00"]  # k = 0, 2 of 4
    assert body["items"][0]["owner"] == "王芳" and body["items"][0]["customer_name"] == "客户03"
    body = hub.get("finance", "/finance/receipts", customer_id="C05", since="2026-11-02", until="2026-11-02").json()
    assert [i["code"] for i in body["items"]] == ["RC05-1"]


def test_finance_role_reads_finance_but_not_reports_or_runs(hub):
    assert hub.get("finance", "/finance/receivables").status_code == 200
    assert hub.get("finance", "/reports").status_code == 403
    assert hub.get("finance", "/quality").status_code == 403


COMPLETENESS = {"hq": (33, 25), "rep": (16, 15), "rep3": (6, 5), "region_manager": (26, 20)}


@pytest.mark.parametrize("role", sorted(COMPLETENESS))
def test_quality_completeness_is_scoped_by_owner(hub, role):
    body = hub.get(role, "/quality").json()
    c = body["completeness"]
    assert (c["overall"]["records"], c["overall"]["complete_records"]) == COMPLETENESS[role]
    assert sum(s["records"] for s in c["by_source"]) == c["overall"]["records"]
    assert sum(s["records"] for s in c["by_entity"]) == c["overall"]["records"]
    owners = {o["owner"] for o in c["by_owner"]}
    assert owners == {"hq": {"王芳", "李强", "陈静"}, "rep": {"王芳"}, "rep3": {"陈静"},
                      "region_manager": {"王芳", "李强"}}[role]
    assert all(o["region"] for o in c["by_owner"])


def test_quality_freshness_quarantine_and_findings(hub):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from hub_core.schema_rules import source_health
    from hub_core.schema_unified import data_quality_finding, mapping_quarantine

    with hub.engine.begin() as conn:
        conn.execute(insert(source_health), [{"source": "wecom", "stale": True, "reason": "activity fell 80 %",
                                              "checked_at": datetime(2026, 11, 2, tzinfo=UTC)}])
        conn.execute(insert(mapping_quarantine), [{"build_id": 1, "source": "u8", "stream": "saleorderlist",
                                                   "reason": "bad date", "raw_value": "SECRET-ROW"}] * 3)
        conn.execute(insert(data_quality_finding), [{"build_id": 1, "source": "crm", "stream": "AccountObj",
                                                     "entity": "account_profile", "kind": "invalid_uscc"}] * 2)
    response = hub.get("dashboard", "/quality")
    body = response.json()
    fresh = {f["source"]: f for f in body["freshness"]}
    assert set(fresh) == {"crm", "u8", "finance", "wecom"}
    assert fresh["wecom"]["stale"] is True and fresh["wecom"]["reason"] == "activity fell 80 %"
    assert fresh["crm"]["stale"] is None and fresh["crm"]["last_run_status"] == "succeeded"
    assert fresh["finance"]["last_success_at"] is None and fresh["finance"]["last_run_status"] == "failed"
    assert body["mapping_quarantine"] == [{"source": "u8", "stream": "saleorderlist", "entity": None, "kind": None,
                                           "count": 3}]
    assert body["findings"] == [{"source": "crm", "stream": None, "entity": "account_profile",
                                 "kind": "invalid_uscc", "count": 2}]
    assert "SECRET-ROW" not in response.text  # counts only, never raw values
