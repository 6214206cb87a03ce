"""Pairing won deals with orders and R1, on unified-model rows, on both backends."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert, select

from hub_core.schema import customer, deal_order_pair, discrepancy
from hub_core.schema_unified import employee, opportunity, sales_order
from quality.reconcile import reconcile
from quality.report import open_discrepancies

CST = timezone(timedelta(hours=8))
T = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
def opp(oid, cid, amount, closed, status="won", deleted=False, owner="crm:1"):
    closed = closed.astimezone(UTC)
    return {"ref": f"crm:NewOpportunityObj:{oid}", "customer_ref": None, "customer_id": cid, "name": oid,
            "amount_cents": round(amount * 100), "status": status, "stage": None, "probability": None,
            "close_at": closed, "close_day": closed.astimezone(CST).date(), "created_at": None, "modified_at": None,
            "stage_changed_at": None, "owner_employee_id": owner, "is_deleted": deleted, "completeness": 1.0}


def order(code, cid, amount, day):
    return {"ref": f"u8:saleorderlist:{code}", "customer_ref": None, "customer_id": cid, "code": code,
            "order_day": day, "state": "Approved", "amount_cents": round(amount * 100), "net_amount_cents": None,
            "owner_employee_id": None, "department_code": None, "created_at": None, "verified_at": None,
            "ship_status": None, "completeness": 1.0}


def seed(engine, opps, orders):
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": c, "name": f"客户{c}", "uscc": None, "owner_employee_id": None,
                                          "record_count": 1, "needs_review": False} for c in ("A", "B")])
        conn.execute(insert(employee), [{"employee_id": "crm:1", "name": "张三", "mobile": None, "region": "华南大区",
                                         "manager_employee_id": None, "crm_id": "1", "u8_code": None,
                                         "wecom_userid": None, "linked_by": "own"}])
        conn.execute(insert(opportunity), opps)
        if orders:
            conn.execute(insert(sales_order), orders)


def pairs(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(deal_order_pair.c.opp_ref, deal_order_pair.c.order_ref)).all())


def test_greedy_pairing_follows_close_order_and_closest_amount(engine):
    seed(engine, [
        opp("o1", "A", 1000, T - timedelta(days=30)),
        opp("o2", "A", 5000, T - timedelta(days=20)),
        opp("o3", "A", 5000, T - timedelta(days=10)),  # both 5000 orders taken: tie -> earlier date wins for o2
    ], [
        order("S1", "A", 5000, (T - timedelta(days=25)).date()),
        order("S2", "A", 1000, (T - timedelta(days=29)).date()),
        order("S3", "A", 4990, (T - timedelta(days=15)).date()),
        order("S9", "B", 5000, (T - timedelta(days=15)).date()),  # another customer: never pairs
    ])
    reconcile(engine, as_of=T)
    assert pairs(engine) == {
        "crm:NewOpportunityObj:o1": "u8:saleorderlist:S2",
        "crm:NewOpportunityObj:o2": "u8:saleorderlist:S1",
        "crm:NewOpportunityObj:o3": "u8:saleorderlist:S3",
    }


def test_equal_amount_gaps_go_to_the_earlier_order_then_the_lower_code(engine):
    closed = T - timedelta(days=20)
    seed(engine, [opp("o1", "A", 1000, closed), opp("o2", "B", 1000, closed)], [
        order("S9", "A", 1010, (T - timedelta(days=10)).date()),
        order("S5", "A", 990, (T - timedelta(days=12)).date()),  # same gap, earlier: wins
        order("S8", "B", 1010, (T - timedelta(days=10)).date()),
        order("S7", "B", 990, (T - timedelta(days=10)).date()),  # same gap, same day, lower code: wins
    ])
    reconcile(engine, as_of=T)
    assert pairs(engine) == {"crm:NewOpportunityObj:o1": "u8:saleorderlist:S5",
                             "crm:NewOpportunityObj:o2": "u8:saleorderlist:S7"}


def test_order_window_and_as_of_limits(engine):
    closed = T - timedelta(days=10)
    seed(engine, [opp("early", "A", 100, closed), opp("late", "B", 100, closed)], [
        order("S1", "A", 100, closed.date() - timedelta(days=7)),  # exactly 7 days before: pairs
        order("S2", "B", 100, closed.date() - timedelta(days=8)),  # 8 days before: too early
        order("S3", "B", 100, T.date() + timedelta(days=1)),  # after T: does not exist yet
    ])
    reconcile(engine, as_of=T)
    assert pairs(engine) == {"crm:NewOpportunityObj:early": "u8:saleorderlist:S1"}


def test_r1_grace_period_severity_and_exclusions(engine):
    seed(engine, [
        opp("big", "A", 150000, T - timedelta(days=5)),
        opp("small", "A", 99999.99, T - timedelta(days=3)),
        opp("edge", "A", 100000, T - timedelta(days=2)),  # exactly 2 days: included
        opp("recent", "A", 500, T - timedelta(days=2) + timedelta(milliseconds=1)),
        opp("deleted", "A", 500, T - timedelta(days=5), deleted=True),
        opp("open", "A", 500, T - timedelta(days=5), status="open"),
        opp("paired", "B", 700, T - timedelta(days=5)),
    ], [order("S1", "B", 700, (T - timedelta(days=4)).date())])
    result = reconcile(engine, as_of=T, rules=["R1"])
    assert result.found == {"R1": 3}
    items = {i["refs"][0]: i for i in open_discrepancies(engine)}
    assert set(items) == {"crm:NewOpportunityObj:big", "crm:NewOpportunityObj:small", "crm:NewOpportunityObj:edge"}
    big = items["crm:NewOpportunityObj:big"]
    assert (big["severity"], big["amount_cny"], big["owner"], big["region"], big["customer_name"]) == (
        "red", "150000.00", "张三", "华南大区", "客户A")
    assert items["crm:NewOpportunityObj:small"]["severity"] == "orange"
    assert items["crm:NewOpportunityObj:small"]["amount_cny"] == "99999.99"
    assert items["crm:NewOpportunityObj:edge"]["severity"] == "red"


def test_rule_thresholds_come_from_the_rules_file(engine, tmp_path, monkeypatch):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  R1: {grace_days: 5, red_amount_cny: 1000}\n")
    monkeypatch.setenv("HUB_RULES_FILE", str(rules))
    seed(engine, [opp("o4", "A", 999, T - timedelta(days=4)), opp("o6", "A", 1000, T - timedelta(days=6))], [])
    reconcile(engine, as_of=T, rules=["R1"])
    assert {i["refs"][0]: i["severity"] for i in open_discrepancies(engine)} == {"crm:NewOpportunityObj:o6": "red"}
    rules.write_text("rules:\n  R1: {enabled: false}\n")
    assert "R1" not in reconcile(engine, as_of=T).found


def test_discrepancies_age_and_resolve_across_runs(engine):
    seed(engine, [opp("o1", "A", 100, T - timedelta(days=5))], [])
    first = reconcile(engine, as_of=T, rules=["R1"])
    assert first.persisted.new == 1
    later = T + timedelta(days=1)
    second = reconcile(engine, as_of=later, rules=["R1"])
    assert second.persisted.new == 0 and second.persisted.persisting == 1
    [item] = open_discrepancies(engine)
    assert datetime.fromisoformat(item["first_seen"]) == T  # keeps its first-seen time
    with engine.begin() as conn:
        conn.execute(insert(sales_order), [order("S1", "A", 100, (T - timedelta(days=4)).date())])
    third = reconcile(engine, as_of=later + timedelta(days=1), rules=["R1"])
    assert third.persisted.resolved == 1
    assert open_discrepancies(engine) == []
    with engine.connect() as conn:
        row = conn.execute(select(discrepancy)).one()
    assert row.status == "resolved" and row.resolved_at is not None
    with engine.begin() as conn:  # the order is cancelled: the discrepancy reopens, its history kept
        conn.execute(sales_order.delete())
    back = later + timedelta(days=3)
    fourth = reconcile(engine, as_of=back, rules=["R1"])
    assert fourth.persisted.reopened == 1 and fourth.persisted.new == 0
    [item] = open_discrepancies(engine)
    assert datetime.fromisoformat(item["first_seen"]) == T


def test_pairs_written_as_a_difference_equal_a_fresh_pairing(engine):
    """The second run writes only what changed (quality.pairing): pairs kept, an order passed to
    another deal, a changed difference, a deal gone and a new one end as a pairing from scratch."""
    from sqlalchemy import delete, update

    from hub_core.schema import deal_order_pair as pair_table
    from quality.pairing import pair_deals

    seed(engine, [
        opp("o1", "A", 1000, T - timedelta(days=30)),
        opp("o2", "A", 5000, T - timedelta(days=20)),
        opp("o3", "B", 700, T - timedelta(days=5)),
    ], [
        order("S1", "A", 5000, (T - timedelta(days=25)).date()),
        order("S2", "A", 1000, (T - timedelta(days=29)).date()),
        order("S3", "B", 700, (T - timedelta(days=4)).date()),
    ])

    def run():
        with engine.begin() as conn:
            return pair_deals(conn, T, T.date(), 30)

    def full():
        with engine.begin() as conn:
            conn.execute(delete(pair_table))
        run()
        return pairs_with_diff(engine)

    assert run() == 3
    with engine.begin() as conn:  # o1's amount now fits S1 best; o2 takes S2 with a new difference;
        o, s = opportunity.c, sales_order.c  # o3 deleted; o4 new, paired with S4
        conn.execute(update(opportunity).where(o.ref == "crm:NewOpportunityObj:o1").values(amount_cents=500_000))
        conn.execute(update(opportunity).where(o.ref == "crm:NewOpportunityObj:o3").values(is_deleted=True))
        conn.execute(insert(opportunity), [opp("o4", "B", 800, T - timedelta(days=3))])
        conn.execute(insert(sales_order), [order("S4", "B", 810, (T - timedelta(days=2)).date())])
        conn.execute(update(sales_order).where(s.code == "S2").values(amount_cents=120_000))
    assert run() == 3
    incremental = pairs_with_diff(engine)
    assert incremental == full()
    assert incremental == {
        "crm:NewOpportunityObj:o1": ("u8:saleorderlist:S1", 0),
        "crm:NewOpportunityObj:o2": ("u8:saleorderlist:S2", -380_000),
        "crm:NewOpportunityObj:o4": ("u8:saleorderlist:S4", 1_000),
    }


def pairs_with_diff(engine):
    with engine.connect() as conn:
        c = deal_order_pair.c
        return {r.opp_ref: (r.order_ref, r.diff_cents) for r in conn.execute(select(c.opp_ref, c.order_ref, c.diff_cents))}
