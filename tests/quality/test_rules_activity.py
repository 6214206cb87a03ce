"""R7 (stale follow-up), R10 (off-channel selling) and R11 (pseudo-progress) on hand-made rows."""

from tests.quality.rules_kit import D, H, S, T, World, days_ago, items, run


def test_r7_strict_age_thresholds(engine):
    w = World()
    w.customer("A")
    ages = {"o48": 48 * H, "o48s": 48 * H + S, "o72": 72 * H, "o72s": 72 * H + S, "o5d": 5 * D, "o5ds": 5 * D + S}
    for oid, age in ages.items():
        w.opp(oid, "A", 1234.56, modified=T - age)
    w.opp("won", "A", 1, status="won", stage="won", close=T - 9 * D, modified=T - 9 * D)
    w.opp("gone", "A", 1, modified=T - 9 * D, deleted=True)
    w.customer("B")  # an old opportunity, but the customer talked an hour ago
    w.opp("oB", "B", 1, modified=T - 30 * D)
    w.talk("m1", "B", T - H)
    w.customer("C")  # a follow-up 49 h ago counts as activity too
    w.opp("oC", "C", 1, modified=T - 30 * D)
    w.talk("f1", "C", T - 49 * H, channel="crm_followup")
    w.talk("f2", "C", T + H, channel="crm_followup")  # after T: ignored
    w.load(engine)
    found = items(run(engine, ["R7"]), "R7")
    assert {k.rsplit(":", 1)[1]: v["severity"] for k, v in found.items()} == {
        "o48s": "yellow", "o72": "yellow", "o72s": "orange", "o5d": "orange", "o5ds": "red", "oC": "yellow"}
    assert found["crm:NewOpportunityObj:o48s"]["amount_cents"] == 123456


def test_r10_won_deals_without_wecom_messages(engine):
    w = World()
    for c in "ABCDE":
        w.customer(c)
    w.account("a2", "A")
    w.account("a1", "A")  # lowest id: the anchor
    w.opp("wA", "A", 100, status="won", stage="won", close=T - 10 * D)
    w.opp("wA0", "A", 50, status="won", stage="won", close=T - 30 * D)  # not in (T - 30 d, T]
    w.account("b", "B")
    w.opp("wB", "B", 100, status="won", stage="won", close=T - 5 * D)
    w.talk("mB", "B", T - 35 * D)  # exactly C - 30 d: inside the window
    w.account("c", "C")
    w.opp("wC", "C", 100, status="won", stage="won", close=T - 5 * D)
    w.talk("mC1", "C", T - 35 * D - S)  # just before C - 30 d
    w.talk("mC2", "C", T - 5 * D + S)  # just after C
    w.account("d", "D")
    w.opp("wD", "D", 100, status="won", stage="won", close=T - 5 * D)
    w.talk("fD", "D", T - 6 * D, channel="crm_followup")  # a CRM follow-up is not a WeCom message
    w.account("e", "E")
    w.opp("wE1", "E", 0.01, status="won", stage="won", close=T - 20 * D)
    w.opp("wE2", "E", 1000, status="won", stage="won", close=T - 3 * D)  # C = T - 3 d
    w.talk("mE", "E", T - 34 * D)  # before C - 30 d
    w.load(engine)
    found = items(run(engine, ["R10"]), "R10")
    assert {k: (v["amount_cents"], v["refs"]) for k, v in found.items()} == {
        "crm:AccountObj:a1": (10000, ["crm:AccountObj:a1", "crm:NewOpportunityObj:wA"]),
        "crm:AccountObj:c": (10000, ["crm:AccountObj:c", "crm:NewOpportunityObj:wC"]),
        "crm:AccountObj:d": (10000, ["crm:AccountObj:d", "crm:NewOpportunityObj:wD"]),
        "crm:AccountObj:e": (100001, ["crm:AccountObj:e", "crm:NewOpportunityObj:wE1", "crm:NewOpportunityObj:wE2"]),
    }
    assert all(v["severity"] == "yellow" for v in found.values())


def test_r11_stage_moved_without_activity(engine):
    w = World()
    s = T - 2 * D  # stage change 2026-11-18 09:00 (+08): date(S) = 11-18
    cases = {
        "A": [],  # nothing at all: pseudo-progress
        "B": [("talk", s - 14 * D)],  # exactly S - 14 d: inside
        "B2": [("talk", s - 14 * D - S), ("talk", s)],  # just before the window; at S itself is not before S
        "C": [("order", days_ago(2 + 14))],  # date(S) - 14: inside
        "C2": [("order", days_ago(2 + 15))],
        "D": [("dispatch", days_ago(2))],  # on date(S): inside
    }
    for cid, events in cases.items():
        w.customer(cid)
        w.opp(f"o{cid}", cid, 77.7, stage_changed=s, modified=s)
        for n, (kind, when) in enumerate(events):
            if kind == "talk":
                w.talk(f"{cid}{n}", cid, when)
            elif kind == "order":
                w.order(f"S{cid}{n}", cid, 1, when)
            else:
                w.dispatch(f"D{cid}{n}", cid, 1, when)
    w.customer("E")
    w.opp("oE", "E", 1, stage_changed=T - 14 * D)  # not in (T - 14 d, T]
    w.opp("oE2", "E", 1, stage_changed=T - 14 * D + S)
    w.opp("oE3", "E", 1, status="won", stage="won", stage_changed=T - D, close=T - D)  # not open
    w.load(engine)
    found = items(run(engine, ["R11"]), "R11")
    assert {k.rsplit(":", 1)[1]: (v["severity"], v["amount_cents"]) for k, v in found.items()} == {
        "oA": ("yellow", 7770), "oB2": ("yellow", 7770), "oC2": ("yellow", 7770), "oE2": ("yellow", 100)}
