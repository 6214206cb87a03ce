"""R4 (capital-chain risk), R5 (overdue receivable) and R9 (receipts exceed invoices) on hand-made rows."""

from tests.quality.rules_kit import D, T, World, days_ago, items, run


def test_r5_overdue_orange_then_red_past_60_days(engine):
    w = World()
    w.customer("A")
    w.receivable("R1", "A", 100.01, days_ago(1), owner="e1")  # 1 day past due
    w.receivable("R2", "A", 5, days_ago(0))  # due today: not overdue
    w.receivable("R3", "A", 6, days_ago(60))  # 60 days: still orange
    w.receivable("R4", "A", 7, days_ago(61))  # 61 days: red
    w.receivable("R5", "A", 0, days_ago(90))  # settled
    w.receivable("R6", "A", 8, days_ago(5), raised=days_ago(-1))  # raised after T: does not exist yet
    w.load(engine)
    found = items(run(engine, ["R5"]), "R5")
    assert {k: (v["severity"], v["amount_cents"]) for k, v in found.items()} == {
        "u8:oughtreceivelist:R1": ("orange", 10001), "u8:oughtreceivelist:R3": ("orange", 600),
        "u8:oughtreceivelist:R4": ("red", 700)}
    assert found["u8:oughtreceivelist:R1"]["owner"] == "张三"


def test_r9_receipts_exceed_invoices_by_more_than_one_yuan(engine):
    w = World()
    for c in "ABCD":
        w.customer(c)
    w.receipt("RA1", "A", 1000, days_ago(20))
    w.receipt("RA2", "A", 201, days_ago(10))
    w.invoice("IA", "A", 1200, days_ago(30))  # excess exactly 1.00: inside
    w.receipt("RB1", "B", 600, days_ago(5))
    w.receipt("RB2", "B", 601.01, days_ago(5))  # same day, higher code: the anchor
    w.receipt("RB0", "B", 0, days_ago(6))
    w.invoice("IB", "B", 1200, days_ago(30))
    w.receipt("RC", "C", 500, days_ago(3))  # a receipt with no invoice at all
    w.receipt("RD", "D", 500, days_ago(-1))  # after T: ignored
    w.load(engine)
    found = items(run(engine, ["R9"]), "R9")
    assert {k: (v["severity"], v["amount_cents"], v["customer_id"]) for k, v in found.items()} == {
        "u8:acceptlist:RB2": ("orange", 101, "B"), "u8:acceptlist:RC": ("orange", 50000, "C")}


def test_r4_late_stage_no_orders_and_two_step_downgrade(engine):
    w = World()
    for c in "ABCDEFG":
        w.customer(c)
        w.opp(f"o{c}", c, 888.88, stage="negotiation" if c != "D" else "needs", modified=T - D)
    w.rating("A", "A", "BBB", "AA", days_ago(10))  # AA -> BBB: 2 steps
    w.order("SA", "A", 1, days_ago(90))  # 90 days ago: not "in the last 90 days"
    w.rating("B", "B", "BBB", "A", days_ago(10))  # 1 step only
    w.rating("C", "C", "BBB", "AA", days_ago(10))
    w.order("SC", "C", 1, days_ago(89))  # bought recently
    w.rating("D", "D", "C", "AAA", days_ago(10))  # stage "needs": not late
    w.rating("E1", "E", "AAA", "AAA", days_ago(3))  # same day as E2: the worse one counts
    w.rating("E2", "E", "BB", "A", days_ago(3))
    w.rating("F", "F", "C", "AAA", days_ago(20))  # an old downgrade...
    w.rating("F", "F", "C", "C", days_ago(5))  # ...superseded by the latest rating
    w.rating("G", "G", "BBB", "A", days_ago(10))
    w.rating("G", "G", "C", "A", days_ago(-1))  # rated after T: ignored
    w.load(engine)
    found = items(run(engine, ["R4"]), "R4")
    assert {k: (v["severity"], v["amount_cents"]) for k, v in found.items()} == {
        "crm:NewOpportunityObj:oA": ("red", 88888), "crm:NewOpportunityObj:oE": ("red", 88888)}
    assert found["crm:NewOpportunityObj:oE"]["refs"] == ["crm:NewOpportunityObj:oE", "finance:credit_rating:E2"]
