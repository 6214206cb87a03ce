"""R6 (master-data conflict) on hand-made customer records."""

from tests.quality.rules_kit import World, items, run


def test_r6_names_owners_and_missing_crm(engine):
    w = World()
    w.employee("e2", "王五", region="华北大区")
    for c in "ABCDEFGH":
        w.customer(c)
    # A: the same name after NFKC and trimming, same owner: no conflict.
    w.record("crm:AccountObj:a", "A", "广州甲科技有限公司（广州）", owner="e1")
    w.record("u8:customer:A01", "A", " 广州甲科技有限公司(广州)", owner="e1")
    w.record("finance:credit_rating:A01", "A", "广州甲科技有限公司（广州） ")
    # B: a different legal name (suffix differs; no suffix stripping).
    w.record("crm:AccountObj:b2", "B", "乙公司")
    w.record("crm:AccountObj:b1", "B", "乙公司")
    w.record("u8:customer:B01", "B", "乙有限公司")
    # C: same names, owners differ between CRM and U8.
    w.record("crm:AccountObj:c", "C", "丙公司", owner="e1")
    w.record("u8:customer:C01", "C", "丙公司", owner="e2")
    # D: U8 owner unknown: nothing to compare.
    w.record("crm:AccountObj:d", "D", "丁公司", owner="e1")
    w.record("u8:customer:D01", "D", "丁公司", owner=None)
    # E: in U8 and finance, not in CRM: anchor is the lowest U8 code.
    w.record("u8:customer:E02", "E", "戊公司")
    w.record("u8:customer:E01", "E", "戊公司")
    w.record("finance:credit_rating:E01", "E", "戊公司")
    # F: only a finance rating.
    w.record("finance:credit_rating:F01", "F", "己公司")
    # G: its only CRM account is deleted: missing in CRM; the deleted record is not listed.
    w.record("crm:AccountObj:g", "G", "庚公司", deleted=True)
    w.record("u8:customer:G01", "G", "庚公司")
    # H: CRM only, one name.
    w.record("crm:AccountObj:h", "H", "辛公司")
    w.load(engine)
    found = items(run(engine, ["R6"]), "R6")
    assert {k: v["refs"] for k, v in found.items()} == {
        "crm:AccountObj:b1": ["crm:AccountObj:b1", "crm:AccountObj:b2", "u8:customer:B01"],
        "crm:AccountObj:c": ["crm:AccountObj:c", "u8:customer:C01"],
        "u8:customer:E01": ["u8:customer:E01", "u8:customer:E02", "finance:credit_rating:E01"],
        "finance:credit_rating:F01": ["finance:credit_rating:F01"],
        "u8:customer:G01": ["u8:customer:G01"],
    }
    assert all(v["severity"] == "yellow" and v["amount_cents"] == 0 for v in found.values())
    assert found["crm:AccountObj:c"]["owner"] == "张三"  # the customer's owner
