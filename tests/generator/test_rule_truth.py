"""R1-R11 in a generated world: planted cases, their near misses, and the oracle's truth."""

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from simulators.generator import GeneratorError, Knobs, build
from simulators.generator.clock import DAY_MS, HOUR_MS, day_of, parse_instant, to_ms
from simulators.generator.plant_check import check_rules
from simulators.generator.plant_rules import Expect

NOW_MS = to_ms(parse_instant("2026-11-20T09:00:00+08:00"))
TODAY = day_of(NOW_MS)
RULES = [f"R{i}" for i in range(1, 12)]
ANCHOR = {"R1": "crm:NewOpportunityObj:", "R2": "u8:consignmentlist:", "R3": "crm:NewOpportunityObj:",
          "R4": "crm:NewOpportunityObj:", "R5": "u8:oughtreceivelist:", "R7": "crm:NewOpportunityObj:",
          "R8": "crm:AccountObj:", "R9": "u8:acceptlist:", "R10": "crm:AccountObj:",
          "R11": "crm:NewOpportunityObj:"}
R1_NEAR_MISSES = ("won_yesterday_no_order_yet", "deleted_won_no_order", "invalid_won_no_order",
                  "won_closing_after_now", "order_dated_before_close")


def _found(truth):
    return {(i["rule"], i["refs"][0]): i for i in truth["discrepancies"]}


def _cases(built, rule):
    return {e.case: e for e in built.plan.rules if e.rule == rule}


def _id(ref):
    return ref.rsplit(":", 1)[1]


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_is_planted_with_near_misses(rules_world, rule):
    built = rules_world
    found = _found(built.truth)
    if rule == "R1":
        assert built.plan.r1
        assert all(("R1", f"crm:NewOpportunityObj:{i}") in found for i in built.plan.r1)
        for case in R1_NEAR_MISSES:
            for ref in built.plan.cases[case]:
                assert ("R1", ref) not in found, case
        return
    expects = [e for e in built.plan.rules if e.rule == rule]
    positives = [e for e in expects if e.positive]
    negatives = [e for e in expects if not e.positive]
    assert positives and negatives, rule
    for e in positives:
        item = found.get((rule, e.anchor()))
        assert item is not None, e.case
        assert item["severity"] == e.severity, e.case
    for e in negatives:
        assert (rule, e.anchor()) not in found, e.case


def test_every_rule_occurs_in_the_truth(rules_world):
    counts = Counter(i["rule"] for i in rules_world.truth["discrepancies"])
    assert set(counts) == set(RULES)
    assert counts["R3"] >= 4 and counts["R9"] >= 2  # planted; none occur on their own


def test_truth_items_shape_and_order(rules_world):
    items = rules_world.truth["discrepancies"]
    assert items == sorted(items, key=lambda i: (int(i["rule"][1:]), i["refs"]))
    for item in items:
        assert set(item) == {"rule", "severity", "refs", "amount_cny"}
        assert item["severity"] in ("red", "orange", "yellow")
        assert re.fullmatch(r"\d+\.\d{2}", item["amount_cny"])
        if item["rule"] in ANCHOR:
            assert item["refs"][0].startswith(ANCHOR[item["rule"]]), item
        if item["rule"] in ("R6", "R8"):
            assert item["amount_cny"] == "0.00"
    anchors = [(i["rule"], i["refs"][0]) for i in items]
    assert len(anchors) == len(set(anchors))


def test_r3_near_misses_sit_on_the_tolerance(rules_world):
    cases = _cases(rules_world, "R3")
    opps = {o["_id"]: o for o in rules_world.world["crm"]["NewOpportunityObj"]}
    found = _found(rules_world.truth)
    diffs = {}
    for name, e in cases.items():
        diffs[name] = (Decimal(str(opps[_id(e.anchor())]["amount"])), found.get(("R3", e.anchor())))
    assert diffs["r3_diff_exactly_half_percent"][1] is None
    amount, item = diffs["r3_diff_half_percent_plus_1_cent"]
    assert Decimal(item["amount_cny"]) == amount * Decimal("0.005") + Decimal("0.01")
    amount, item = diffs["r3_diff_exactly_10_percent"]
    assert Decimal(item["amount_cny"]) == amount / 10 and item["severity"] == "orange"
    amount, item = diffs["r3_diff_10_percent_plus_1_cent"]
    assert Decimal(item["amount_cny"]) == amount / 10 + Decimal("0.01") and item["severity"] == "red"
    amount, item = diffs["r3_diff_1_01_cny_small_deal"]
    assert amount < 200 and item["amount_cny"] == "1.01"


def test_r5_r7_r8_near_misses_sit_on_the_thresholds(rules_world):
    world = rules_world.world
    receivables = {r["code"]: r for r in world["u8"]["oughtreceivelist"]}
    for name, e in _cases(rules_world, "R5").items():
        back = int(re.search(r"due_(\d+)_days", name).group(1))
        assert date.fromisoformat(receivables[_id(e.anchor())]["duedate"]) == TODAY - timedelta(days=back)
    opps = {o["_id"]: o for o in world["crm"]["NewOpportunityObj"]}
    for name, e in _cases(rules_world, "R7").items():
        m = re.fullmatch(r"r7_untouched_(\d+)h(_plus_1s)?", name)
        if m:
            age = int(m.group(1)) * HOUR_MS + (1000 if m.group(2) else 0)
            assert opps[_id(e.anchor())]["last_modified_time"] == NOW_MS - age
    orders_by_code = {}
    for o in world["u8"]["saleorderlist"]:
        orders_by_code.setdefault(o["custcode"], []).append(date.fromisoformat(o["date"]))
    group = {r: g for g in rules_world.truth["same_customer"] for r in g}
    for name, e in _cases(rules_world, "R8").items():
        back = int(re.search(r"(\d+)_days", name).group(1))
        codes = [_id(r) for r in group[e.anchor()] if r.startswith("u8:customer:")]
        last = max(d for c in codes for d in orders_by_code.get(c, []))
        assert last == TODAY - timedelta(days=back)


def test_r9_excess_and_r10_message_edges(rules_world):
    world = rules_world.world
    group = {r: g for g in rules_world.truth["same_customer"] for r in g}
    receipts = {r["code"]: r for r in world["u8"]["acceptlist"]}
    for name, e in _cases(rules_world, "R9").items():
        custcode = receipts[_id(e.anchor())]["custcode"]
        codes = {_id(r) for r in group[f"u8:customer:{custcode}"] if r.startswith("u8:customer:")}
        paid = sum(Decimal(str(r["amount"])) for r in world["u8"]["acceptlist"] if r["custcode"] in codes)
        billed = sum(Decimal(str(i["sum"])) for i in world["u8"]["saleinvoicelist"] if i["customercode"] in codes)
        if name == "r9_excess_exactly_1_00":
            assert paid - billed == Decimal("1.00")
        elif name == "r9_excess_1_01":
            assert paid - billed == Decimal("1.01")
    assert NOW_MS - 30 * DAY_MS in {o["close_date"] for o in world["crm"]["NewOpportunityObj"]}


def test_planting_can_be_switched_off():
    plain = build(7, customers=60, knobs=Knobs(plant_rules=False))
    assert plain.plan.rules == []
    assert not {"R3", "R9"} & {i["rule"] for i in plain.truth["discrepancies"]}


def test_generator_raises_when_truth_and_plan_disagree(rules_world):
    e = next(e for e in rules_world.plan.rules if e.positive)
    check_rules(rules_world.truth, [e])
    with pytest.raises(GeneratorError, match="missing"):
        check_rules({"discrepancies": []}, [e])
    flipped = Expect(e.rule, e.case, False, e.anchor)
    with pytest.raises(GeneratorError, match="should not be there"):
        check_rules(rules_world.truth, [flipped])
    wrong = Expect(e.rule, e.case, True, e.anchor, "purple")
    with pytest.raises(GeneratorError, match="severity"):
        check_rules(rules_world.truth, [wrong])


def test_small_worlds_plant_what_fits():
    for customers in (5, 20, 60):
        built = build(3, customers=customers)  # raises if the truth contradicts the plan
        assert len(built.truth["same_customer"]) == customers
