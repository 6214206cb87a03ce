"""R1 truth: the oracle, the planted intent, and the tricky cases."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from simulators.generator.clock import DAY_MS, day_of, midnight_ms, parse_instant, to_ms
from simulators.generator.truth import pair_deals, r1_items

NOW = "2026-11-20T09:00:00+08:00"
NOW_MS = to_ms(parse_instant(NOW))
TODAY = day_of(NOW_MS)


def _r1(truth):
    return {i["refs"][0].rsplit(":", 1)[1]: i for i in truth["discrepancies"] if i["rule"] == "R1"}


def _opps(world):
    return {o["_id"]: o for o in world["crm"]["NewOpportunityObj"]}


def _case_ids(built, name):
    return [ref.rsplit(":", 1)[1] for ref in built.plan.cases[name]
            if ref.startswith("crm:NewOpportunityObj:")]


# -- the oracle on hand-built worlds ------------------------------------------------------
def _deal(id_, close, amount, account="A1", status="2", **extra):
    return {"_id": id_, "account_id": account, "sales_status": status, "amount": amount,
            "close_date": close, "life_status": "normal", "is_deleted": False, **extra}


def _order(code, day, total, cust="C1"):
    return {"code": code, "date": day.isoformat(), "custcode": cust, "sum": total}


def _mini(deals, orders):
    world = {"meta": {"now": NOW}, "crm": {"NewOpportunityObj": deals},
             "u8": {"saleorderlist": orders}}
    company_of = {"crm:AccountObj:A1": 1, "crm:AccountObj:B1": 2, "u8:customer:C1": 1,
                  "u8:customer:C1b": 1, "u8:customer:D1": 2}
    pairs = pair_deals(world, company_of)
    return pairs, {i["refs"][0].rsplit(":", 1)[1]: i for i in r1_items(world, pairs)}


def test_oracle_window_and_age():
    close = midnight_ms(TODAY - timedelta(days=20))
    pairs, r1 = _mini(
        [_deal("d1", close, 500.0), _deal("d2", close, 700.0),
         _deal("d3", NOW_MS - 2 * DAY_MS, 900.0), _deal("d4", NOW_MS - 2 * DAY_MS + 1, 950.0)],
        [_order("SO1", TODAY - timedelta(days=27), "500.00"),  # exactly close - 7: pairs
         _order("SO2", TODAY - timedelta(days=28), 700)],  # 8 days early: does not
    )
    assert pairs == {"d1": "SO1", "d2": None, "d3": None, "d4": None}
    assert set(r1) == {"d2", "d3"}  # d4 is 1 ms short of 48 h


def test_oracle_closest_amount_and_ties():
    c1 = midnight_ms(TODAY - timedelta(days=30))
    c2 = midnight_ms(TODAY - timedelta(days=29))
    pairs, r1 = _mini(
        [_deal("d2", c2, 1000.0), _deal("d1", c1, 1000.0)],
        [_order("SO3", TODAY - timedelta(days=20), 1010),
         _order("SO2", TODAY - timedelta(days=25), 990),
         _order("SO1", TODAY - timedelta(days=25), "1010.00")],
    )
    # d1 goes first (earlier close); SO1/SO2/SO3 all 10 off: earlier date, then lower code.
    assert pairs == {"d1": "SO1", "d2": "SO2"} and not r1


def test_oracle_ignores_deleted_future_and_other_customers():
    close = midnight_ms(TODAY - timedelta(days=10))
    pairs, r1 = _mini(
        [_deal("gone", close, 10.0, is_deleted=True),
         _deal("void", close, 10.0, life_status="invalid"),
         _deal("later", midnight_ms(TODAY + timedelta(days=3)), 10.0),
         _deal("lost", close, 10.0, status="3"),
         _deal("b", close, 10.0, account="B1"),
         _deal("a", close, 10.0)],
        [_order("SO1", TODAY + timedelta(days=1), 10),  # dated after T: not yet
         _order("SO2", TODAY, 10, cust="C1b")],  # another U8 record of the same company
    )
    assert pairs == {"b": None, "a": "SO2"}
    assert set(r1) == {"b"} and r1["b"]["severity"] == "orange" and r1["b"]["amount_cny"] == "10.00"


# -- the generated world ------------------------------------------------------------------
def test_r1_truth_equals_plan(default_world):
    assert sorted(_r1(default_world.truth)) == default_world.plan.r1


def test_r1_share_and_format(default_world):
    world, truth = default_world.world, default_world.truth
    opps = _opps(world)
    eligible = [o for o in opps.values() if o["sales_status"] == "2" and not o["is_deleted"]
                and o["life_status"] != "invalid" and o["close_date"] <= NOW_MS - 2 * DAY_MS]
    r1 = _r1(truth)
    assert 0.08 <= len(r1) / len(eligible) <= 0.16
    for id_, item in r1.items():
        assert set(item) == {"rule", "severity", "refs", "amount_cny"}
        assert item["refs"] == [f"crm:NewOpportunityObj:{id_}"]
        assert re.fullmatch(r"\d+\.\d{2}", item["amount_cny"])
        amount = Decimal(item["amount_cny"])
        assert amount == Decimal(str(opps[id_]["amount"]))
        assert item["severity"] == ("red" if amount >= 100000 else "orange")
    assert {i["severity"] for i in r1.values()} == {"red", "orange"}
    assert {"100000.00", "99999.99"} <= {i["amount_cny"] for i in r1.values()}


def test_tricky_cases_are_planted(default_world):
    assert set(default_world.plan.cases) == {
        "r1_closed_exactly_48h_ago", "won_yesterday_no_order_yet", "deleted_won_no_order",
        "invalid_won_no_order", "won_closing_after_now", "r1_amount_edge",
        "order_dated_before_close", "r1_order_too_early", "order_under_duplicate_u8_customer"}


@pytest.mark.parametrize("case,in_r1", [
    ("r1_closed_exactly_48h_ago", True), ("r1_amount_edge", True), ("r1_order_too_early", True),
    ("won_yesterday_no_order_yet", False), ("deleted_won_no_order", False),
    ("invalid_won_no_order", False), ("won_closing_after_now", False),
    ("order_dated_before_close", False), ("order_under_duplicate_u8_customer", False),
])
def test_tricky_case_outcome(default_world, case, in_r1):
    r1 = _r1(default_world.truth)
    for id_ in _case_ids(default_world, case):
        assert (id_ in r1) is in_r1, (case, id_)


def test_tricky_case_details(default_world):
    built = default_world
    world, opps = built.world, _opps(built.world)
    orders = {o["code"]: o for o in world["u8"]["saleorderlist"]}
    pairs = pair_deals(world, built.company_of)
    [edge] = _case_ids(built, "r1_closed_exactly_48h_ago")
    assert opps[edge]["close_date"] == NOW_MS - 2 * DAY_MS
    [recent] = _case_ids(built, "won_yesterday_no_order_yet")
    assert NOW_MS - 2 * DAY_MS < opps[recent]["close_date"] < NOW_MS and pairs[recent] is None
    [gone] = _case_ids(built, "deleted_won_no_order")
    assert opps[gone]["is_deleted"] is True and gone not in pairs
    [void] = _case_ids(built, "invalid_won_no_order")
    assert opps[void]["life_status"] == "invalid" and void not in pairs
    [later] = _case_ids(built, "won_closing_after_now")
    assert opps[later]["close_date"] > NOW_MS and later not in pairs
    for id_ in _case_ids(built, "order_dated_before_close"):
        order_day = date.fromisoformat(orders[pairs[id_]]["date"])
        assert timedelta(days=1) <= day_of(opps[id_]["close_date"]) - order_day <= timedelta(days=7)
    assert any(day_of(opps[i]["close_date"]) - date.fromisoformat(orders[pairs[i]]["date"])
               == timedelta(days=7) for i in _case_ids(built, "order_dated_before_close"))
    [dup_deal] = _case_ids(built, "order_under_duplicate_u8_customer")
    dup_ref = next(r for r in built.plan.cases["order_under_duplicate_u8_customer"]
                   if r.startswith("u8:"))
    dup = next(c for c in world["u8"]["customer"] if f"u8:customer:{c['code']}" == dup_ref)
    assert orders[pairs[dup_deal]]["custcode"] == dup["code"] and dup["taxno"] == ""
    account = f"crm:AccountObj:{opps[dup_deal]['account_id']}"
    assert built.company_of[account] == built.company_of[dup_ref]
    [early] = _case_ids(built, "r1_order_too_early")
    company = built.company_of[f"crm:AccountObj:{opps[early]['account_id']}"]
    too_early = [o for o in orders.values()
                 if built.company_of[f"u8:customer:{o['custcode']}"] == company
                 and Decimal(str(o["sum"])) == Decimal(str(opps[early]["amount"]))]
    assert too_early and all(
        day_of(opps[early]["close_date"]) - date.fromisoformat(o["date"]) > timedelta(days=7)
        for o in too_early)


def test_every_paired_deal_pairs_with_its_own_amount(default_world):
    """No unplanned R3 hides in the world: every other pair agrees on the amount to the cent."""
    world = default_world.world
    opps = _opps(world)
    orders = {o["code"]: o for o in world["u8"]["saleorderlist"]}
    planted = {e.anchor().rsplit(":", 1)[1] for e in default_world.plan.rules if e.rule == "R3"}
    for id_, code in pair_deals(world, default_world.company_of).items():
        if code and id_ not in planted:
            assert Decimal(str(orders[code]["sum"])) == Decimal(str(opps[id_]["amount"]))


def test_big_world_r1(big_world):
    r1 = _r1(big_world.truth)
    assert sorted(r1) == big_world.plan.r1 and len(r1) > 150


def test_knobs_change_what_is_planted():
    from simulators.generator import Knobs, build

    plain = build(7, knobs=Knobs(tricky=False))
    assert plain.plan.cases == {}
    assert sorted(_r1(plain.truth)) == plain.plan.r1
    none = build(7, knobs=Knobs(tricky=False, r1_share=0.0, crm_only_share=0.0))
    assert none.plan.r1 == [] and _r1(none.truth) == {}
