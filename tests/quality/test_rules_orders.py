"""R2 (shipped, CRM not updated), R3 (amount mismatch) and R8 (dormant top customer) on hand-made rows."""

from tests.quality.rules_kit import CST, D, H, S, T, World, days_ago, items, run


def test_r2_dispatch_without_crm_update(engine):
    w = World()
    for c in "ABC":
        w.customer(c)
    w.opp("oA1", "A", 1, modified=T.replace(day=15, hour=10))  # 11-15
    w.opp("oA2", "A", 1, modified=T.replace(day=16, hour=23, minute=59, second=59))  # 11-16: the latest such
    w.opp("oA3", "A", 1, modified=T.replace(day=17, hour=0, minute=0))  # same day as the dispatch: not before it
    w.opp("oAw", "A", 1, status="lost", modified=T.replace(day=16, hour=23, minute=59, second=59, microsecond=1))
    w.order("SOA", "A", 100, days_ago(20))
    w.dispatch("DA1", "A", 12345.67, days_ago(3), orders=["SOA"])  # date(T) - 3: in
    w.dispatch("DA2", "A", 1, days_ago(2), orders=["SOA"])  # date(T) - 2: too recent
    w.dispatch("DA3", "A", 7.01, days_ago(4))  # no lines at all: no paired order either
    # B: the dispatched order is paired with a won deal -> no R2.
    w.opp("oB", "B", 1, modified=T - 30 * D)
    w.opp("wB", "B", 500, status="won", stage="won", close=T - 12 * D)
    w.order("SOB", "B", 500, days_ago(11))
    w.dispatch("DB", "B", 500, days_ago(10), orders=["SOB"])
    # C: the open opportunity was modified on the dispatch day itself.
    w.opp("oC", "C", 1, modified=datetime_cst(2026, 11, 10, 0, 0, 0))
    w.dispatch("DC", "C", 1, days_ago(10))
    w.load(engine)
    found = items(run(engine, ["R2"]), "R2")
    assert set(found) == {"u8:consignmentlist:DA1", "u8:consignmentlist:DA3"}
    da1 = found["u8:consignmentlist:DA1"]
    assert da1["refs"] == ["u8:consignmentlist:DA1", "crm:NewOpportunityObj:oA2"]
    assert da1["amount_cents"] == 1234567 and da1["severity"] == "orange"
    assert da1["owner"] == "张三" and da1["manager"] == "李经理" and da1["region"] == "华南大区"
    assert found["u8:consignmentlist:DA3"]["amount_cents"] == 701


def datetime_cst(*args):
    from datetime import datetime

    return datetime(*args, tzinfo=CST)


def test_r3_tolerance_is_half_a_percent_and_one_yuan(engine):
    w = World()
    cases = {  # opp amount, order amount -> expected (severity, diff cents) or None
        "o1": (10000.00, 10050.00, None),  # exactly 0.5 %: inside
        "o2": (10000.00, 10050.01, ("orange", 5001)),
        "o3": (100.00, 101.00, None),  # exactly 1.00: inside
        "o4": (100.00, 101.01, ("orange", 101)),
        "o5": (1000.00, 1100.00, ("orange", 10000)),  # exactly 10 %: orange
        "o6": (1000.00, 1100.01, ("red", 10001)),
        "o7": (1000.00, 899.99, ("red", 10001)),  # order below the deal: absolute difference
    }
    for n, (oid, (amount, order_amount, _)) in enumerate(cases.items()):
        cid = f"C{n}"
        w.customer(cid)
        w.opp(oid, cid, amount, status="won", stage="won", close=T - 10 * D)
        w.order(f"S{n}", cid, order_amount, days_ago(9))
    w.load(engine)
    result = run(engine, ["R1", "R3"])
    assert result.found["R1"] == 0  # every deal is paired
    found = items(result, "R3")
    expected = {f"crm:NewOpportunityObj:{oid}": exp for oid, (_, _, exp) in cases.items() if exp}
    assert {k: (v["severity"], v["amount_cents"]) for k, v in found.items()} == expected
    n = list(cases).index("o2")
    assert found["crm:NewOpportunityObj:o2"]["refs"] == ["crm:NewOpportunityObj:o2", f"u8:saleorderlist:S{n}"]


def test_r8_dormant_top_customer_330_days(engine):
    w = World()
    for c in "ABCDE":
        w.customer(c)
    w.account("a", "A", level="S")
    w.order("SA", "A", 1, days_ago(330))  # exactly 330 days ago: not "in the last 330 days"
    w.account("b", "B", level="A")
    w.order("SB", "B", 1, days_ago(329))
    w.account("c", "C", level="B")  # not a top grade
    w.account("d", "D", level="S", deleted=True)
    w.account("e", "E", level="A")
    w.order("SE", "E", 1, days_ago(-1))  # dated after T: does not exist yet
    w.load(engine)
    found = items(run(engine, ["R8"]), "R8")
    assert set(found) == {"crm:AccountObj:a", "crm:AccountObj:e"}
    assert all(v["severity"] == "orange" and v["amount_cents"] == 0 for v in found.values())


def test_r1_grace_is_strict_two_days(engine):
    w = World()
    w.customer("A")
    w.opp("in", "A", 100000, status="won", stage="won", close=T - 2 * D)
    w.opp("out", "A", 99999.99, status="won", stage="won", close=T - 2 * D + S)
    w.opp("old", "A", 99999.99, status="won", stage="won", close=T - 3 * D - H)
    w.load(engine)
    found = items(run(engine, ["R1"]), "R1")
    assert {k: (v["severity"], v["amount_cents"]) for k, v in found.items()} == {
        "crm:NewOpportunityObj:in": ("red", 10000000), "crm:NewOpportunityObj:old": ("orange", 9999999)}
