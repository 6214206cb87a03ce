"""The R2-R11 oracle on hand-built worlds: every threshold just inside and just outside."""

from datetime import timedelta

import pytest

from simulators.generator.clock import (
    DAY_MS,
    HOUR_MS,
    day_of,
    midnight_ms,
    parse_instant,
    to_ms,
)
from simulators.generator.truth import build_truth

NOW = "2026-11-20T09:00:00+08:00"
NOW_MS = to_ms(parse_instant(NOW))
TODAY = day_of(NOW_MS)
COMPANY_OF = {"crm:AccountObj:A1": 1, "crm:AccountObj:A2": 1, "u8:customer:C1": 1,
              "u8:customer:C2": 1, "finance:credit_rating:C1": 1, "finance:credit_rating:C2": 1,
              "crm:AccountObj:B1": 2, "u8:customer:D1": 2}
CONTACT_OF = {"wm1": 1, "wm2": 2}


def _day(back: int) -> str:
    return (TODAY - timedelta(days=back)).isoformat()


def _opp(id_, status="1", stage="3", amount=1000.0, account="A1", **extra):
    rec = {"_id": id_, "account_id": account, "sales_status": status, "sales_stage": stage,
           "amount": amount, "close_date": midnight_ms(TODAY), "create_time": NOW_MS - 90 * DAY_MS,
           "last_modified_time": NOW_MS - HOUR_MS, "stg_changed_time": NOW_MS - 60 * DAY_MS,
           "life_status": "normal", "is_deleted": False}
    rec.update(extra)
    return rec


def _world(opps=(), orders=(), dispatches=(), invoices=(), receivables=(), receipts=(), notes=(),
           messages=(), ratings=(), accounts=None, customers=None, persons=None, staff=None):
    accounts = accounts if accounts is not None else [
        {"_id": "A1", "name": "甲公司", "owner": ["1001"], "account_level": "B", "create_time": 0},
        {"_id": "B1", "name": "乙公司", "owner": ["1001"], "account_level": "B", "create_time": 0}]
    customers = customers if customers is not None else [
        {"code": "C1", "name": "甲公司", "spec_operator": "P001"},
        {"code": "D1", "name": "乙公司", "spec_operator": "P001"}]
    return {
        "meta": {"now": NOW},
        "crm": {"AccountObj": accounts, "NewOpportunityObj": list(opps),
                "PersonnelObj": staff or [{"_id": "1001", "mobile": "13800000001"},
                                          {"_id": "1002", "mobile": "13800000002"}],
                "ActiveRecordObj": [{"account_id": a, "create_time": t} for a, t in notes]},
        "u8": {"customer": customers, "saleorderlist": list(orders), "consignmentlist": list(dispatches),
               "saleinvoicelist": list(invoices), "oughtreceivelist": list(receivables),
               "acceptlist": list(receipts),
               "person": persons or [{"code": "P001", "mobile": "+86 138-0000-0001"},
                                     {"code": "P002", "mobile": "13800000002"}]},
        "finance": {"credit_rating": list(ratings)},
        "wecom": {"messages": [{"from": f, "tolist": [t], "msgtime": ms} for f, t, ms in messages]},
    }


def _items(world, rule):
    truth = build_truth(world, COMPANY_OF, CONTACT_OF)
    return {i["refs"][0].rsplit(":", 1)[1]: i for i in truth["discrepancies"] if i["rule"] == rule}


def _order(code, back, total, cust="C1"):
    return {"code": code, "date": _day(back), "custcode": cust, "sum": total}


def _dispatch(code, back, socode, total=500.0, cust="C1"):
    return {"code": code, "date": _day(back), "custcode": cust, "sum": total,
            "entry": [{"socode": socode, "sum": total}]}


def test_r2_dispatch_age_and_opportunity_date():
    touched = midnight_ms(TODAY - timedelta(days=5)) + 10 * HOUR_MS
    world = _world(opps=[_opp("o1", last_modified_time=touched)],
                   orders=[_order("SO1", 9, 500), _order("SO2", 9, 600), _order("SO3", 9, 700)],
                   dispatches=[_dispatch("FH1", 3, "SO1"), _dispatch("FH2", 2, "SO2"),
                               _dispatch("FH3", 5, "SO3")])
    r2 = _items(world, "R2")
    assert set(r2) == {"FH1"}  # FH2 too young, FH3 on the very day the deal was touched
    assert r2["FH1"]["refs"] == ["u8:consignmentlist:FH1", "crm:NewOpportunityObj:o1"]
    assert r2["FH1"]["amount_cny"] == "500.00" and r2["FH1"]["severity"] == "orange"


def test_r2_not_for_orders_paired_with_a_won_deal():
    world = _world(opps=[_opp("o1", last_modified_time=NOW_MS - 20 * DAY_MS),
                         _opp("w1", status="2", stage="5", amount=500.0,
                              close_date=midnight_ms(TODAY - timedelta(days=10)))],
                   orders=[_order("SO1", 9, 500)], dispatches=[_dispatch("FH1", 4, "SO1")])
    assert _items(world, "R2") == {}


@pytest.mark.parametrize("amount,total,severity", [
    (1000.0, 1005.0, None), (1000.0, 994.99, "orange"), (1000.0, 1100.0, "orange"),
    (1000.0, 1100.01, "red"), (150.0, 151.0, None), (150.0, 148.99, "orange")])
def test_r3_tolerance_floor_and_red_line(amount, total, severity):
    close = midnight_ms(TODAY - timedelta(days=10))
    world = _world(opps=[_opp("w1", status="2", stage="5", amount=amount, close_date=close)],
                   orders=[_order("SO1", 9, total)])
    r3 = _items(world, "R3")
    if severity is None:
        assert r3 == {}
    else:
        assert r3["w1"]["severity"] == severity
        assert r3["w1"]["refs"] == ["crm:NewOpportunityObj:w1", "u8:saleorderlist:SO1"]
        assert r3["w1"]["amount_cny"] == f"{abs(total - amount):.2f}"


def _rating(code, rating, previous, back=10):
    return {"customer_code": code, "rating": rating, "previous_rating": previous, "rated_at": _day(back)}


def test_r4_notches_stage_and_order_window():
    opps = [_opp("p3", stage="3"), _opp("p4", stage="4", amount=2000.0), _opp("n2", stage="2")]
    world = _world(opps=opps, orders=[_order("SO1", 90, 10)], ratings=[_rating("C1", "BBB", "AA")])
    r4 = _items(world, "R4")
    assert set(r4) == {"p3", "p4"} and r4["p4"]["severity"] == "red" and r4["p4"]["amount_cny"] == "2000.00"
    assert _items(_world(opps=opps, orders=[_order("SO1", 89, 10)], ratings=[_rating("C1", "BBB", "AA")]),
                  "R4") == {}
    assert _items(_world(opps=opps, ratings=[_rating("C1", "BBB", "A")]), "R4") == {}
    # The latest rating decides; on a tie of dates, the worse one (here: not downgraded).
    tie = [_rating("C1", "BBB", "AA"), _rating("C2", "BB", "BB")]
    assert _items(_world(opps=opps, ratings=tie), "R4") == {}
    later = [_rating("C1", "BBB", "AA", back=5), _rating("C2", "AA", "AA", back=30)]
    assert set(_items(_world(opps=opps, ratings=later), "R4")) == {"p3", "p4"}


def test_r5_due_dates_and_balance():
    def rec(code, due, balance=80.0):
        return {"code": code, "date": _day(120), "custcode": "C1", "amount": 100.0, "balance": balance,
                "duedate": _day(due)}

    world = _world(receivables=[rec("Y0", 0), rec("Y1", 1), rec("Y60", 60), rec("Y61", 61),
                                rec("Ypaid", 30, "0.00")])
    r5 = _items(world, "R5")
    assert {k: v["severity"] for k, v in r5.items()} == {"Y1": "orange", "Y60": "orange", "Y61": "red"}
    assert r5["Y1"]["amount_cny"] == "80.00"


def test_r6_names_owners_and_missing_crm():
    agree = _world()
    assert "A1" not in _items(agree, "R6")  # P001's mobile is 1001's, written differently
    spaced = _world(customers=[{"code": "C1", "name": "\u3000甲公司 ", "spec_operator": "P001"},
                               {"code": "D1", "name": "乙公司", "spec_operator": "P001"}])
    assert _items(spaced, "R6") == {}
    renamed = _world(customers=[{"code": "C1", "name": "甲股份有限公司", "spec_operator": "P001"},
                                {"code": "D1", "name": "乙公司", "spec_operator": "P002"}])
    r6 = _items(renamed, "R6")
    assert set(r6) == {"A1", "B1"}  # A1: the name; B1: the U8 rep is someone else
    assert r6["A1"]["refs"] == ["crm:AccountObj:A1", "u8:customer:C1"] and r6["A1"]["amount_cny"] == "0.00"
    no_crm = _world(accounts=[{"_id": "A1", "name": "甲公司", "owner": ["1001"], "create_time": 0}])
    assert set(_items(no_crm, "R6")) == {"D1"}


def test_r7_ages_and_customer_activity():
    opps = [_opp(f"h{h}{'s' if s else ''}", last_modified_time=NOW_MS - h * HOUR_MS - s)
            for h, s in ((48, 0), (48, 1), (72, 0), (72, 1), (120, 0), (120, 1))]
    r7 = _items(_world(opps=opps), "R7")
    assert {k: v["severity"] for k, v in r7.items()} == {
        "h48s": "yellow", "h72": "yellow", "h72s": "orange", "h120": "orange", "h120s": "red"}
    fresh = _world(opps=opps, messages=[("wm1", "rep", NOW_MS - 47 * HOUR_MS)])
    assert _items(fresh, "R7") == {}
    noted = _world(opps=opps, notes=[("A2", NOW_MS - 73 * HOUR_MS)])
    assert {k: v["severity"] for k, v in _items(noted, "R7").items()} == {  # 73 h ago at worst
        "h48s": "yellow", "h72": "yellow", "h72s": "orange", "h120": "orange", "h120s": "orange"}
    elsewhere = _world(opps=opps, messages=[("wm2", "rep", NOW_MS - HOUR_MS)])
    assert len(_items(elsewhere, "R7")) == 5


def test_r8_grade_and_330_days():
    accounts = [{"_id": "A1", "name": "甲公司", "owner": ["1001"], "account_level": "A", "create_time": 0},
                {"_id": "B1", "name": "乙公司", "owner": ["1001"], "account_level": "S", "create_time": 0}]
    world = _world(accounts=accounts, orders=[_order("SO1", 330, 10), _order("SO2", 329, 10, cust="D1")])
    r8 = _items(world, "R8")
    assert set(r8) == {"A1"} and r8["A1"]["severity"] == "orange" and r8["A1"]["amount_cny"] == "0.00"


def test_r9_excess_and_anchor():
    inv = [{"invoiceno": "I1", "date": _day(40), "customercode": "C1", "sum": "100.00"}]
    def rc(code, back, amount, cust="C1"):
        return {"code": code, "date": _day(back), "custcode": cust, "amount": amount}

    assert _items(_world(invoices=inv, receipts=[rc("S1", 5, 60.0), rc("S2", 5, "41.00")]), "R9") == {}
    r9 = _items(_world(invoices=inv, receipts=[rc("S2", 5, 60.0), rc("S1", 5, 41.01), rc("S0", 9, 1)]),
                "R9")
    assert set(r9) == {"S2"} and r9["S2"]["amount_cny"] == "2.01"
    # A receipt with no invoice at all (another U8 record of the same customer).
    r9 = _items(_world(invoices=inv, receipts=[rc("S1", 3, 100.0), rc("S3", 1, 5.0, cust="C2")]), "R9")
    assert set(r9) == {"S3"} and r9["S3"]["amount_cny"] == "5.00"


def test_r10_window_and_messages():
    close = NOW_MS - 5 * DAY_MS
    won = [_opp("w1", status="2", stage="5", close_date=close),
           _opp("w0", status="2", stage="5", amount=500.0, close_date=NOW_MS - 20 * DAY_MS)]
    r10 = _items(_world(opps=won, notes=[("A1", close - DAY_MS)],
                        messages=[("rep", "wm1", close + 1)]), "R10")
    assert r10["A1"]["refs"] == ["crm:AccountObj:A1", "crm:NewOpportunityObj:w0", "crm:NewOpportunityObj:w1"]
    assert r10["A1"]["amount_cny"] == "1500.00" and r10["A1"]["severity"] == "yellow"
    assert _items(_world(opps=won, messages=[("wm1", "rep", close - 30 * DAY_MS)]), "R10") == {}
    assert "A1" in _items(_world(opps=won, messages=[("wm1", "rep", close - 30 * DAY_MS - 1)]), "R10")
    old = [_opp("w2", status="2", stage="5", close_date=NOW_MS - 30 * DAY_MS)]
    assert _items(_world(opps=old), "R10") == {}


def test_r11_activity_and_document_windows():
    s = NOW_MS - 3 * DAY_MS
    opps = [_opp("m1", stg_changed_time=s)]
    assert set(_items(_world(opps=opps), "R11")) == {"m1"}
    assert _items(_world(opps=opps, notes=[("A1", s - 14 * DAY_MS)]), "R11") == {}
    assert set(_items(_world(opps=opps, notes=[("A1", s)]), "R11")) == {"m1"}
    assert set(_items(_world(opps=opps, notes=[("A1", s - 14 * DAY_MS - 1)]), "R11")) == {"m1"}
    s_day = (TODAY - day_of(s)).days
    assert _items(_world(opps=opps, orders=[_order("SO1", s_day + 14, 10)]), "R11") == {}
    assert set(_items(_world(opps=opps, orders=[_order("SO1", s_day + 15, 10)]), "R11")) == {"m1"}
    shipped = _world(opps=opps, orders=[_order("SO1", s_day + 30, 10)],
                     dispatches=[_dispatch("FH1", s_day, "SO1")])
    assert _items(shipped, "R11") == {}
    assert _items(_world(opps=[_opp("m2", stg_changed_time=NOW_MS - 14 * DAY_MS)]), "R11") == {}


def test_deleted_and_future_records_are_ignored():
    opps = [_opp("gone", is_deleted=True, last_modified_time=NOW_MS - 9 * DAY_MS),
            _opp("void", life_status="invalid", last_modified_time=NOW_MS - 9 * DAY_MS)]
    receivables = [{"code": "Y1", "date": _day(-1), "custcode": "C1", "amount": 1, "balance": 1,
                    "duedate": _day(-1)}]
    world = _world(opps=opps, receivables=receivables)
    assert _items(world, "R7") == {} and _items(world, "R5") == {}
