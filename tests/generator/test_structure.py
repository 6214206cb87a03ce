"""Native shapes: the sections and objects of world-and-results.md, each system's types."""

import re
from decimal import Decimal

from simulators.generator.clock import parse_instant, to_ms

NOW_MS = to_ms(parse_instant("2026-11-20T09:00:00+08:00"))

SECTIONS = {
    "crm": {"PersonnelObj", "AccountObj", "ContactObj", "NewOpportunityObj", "SalesOrderObj",
            "ContractObj", "PaymentObj", "ActiveRecordObj"},
    "u8": {"person", "customer", "saleorderlist", "consignmentlist", "saleinvoicelist",
           "oughtreceivelist", "acceptlist", "inventory", "currentstock"},
    "finance": {"credit_rating"},
    "wecom": {"follow_users", "external_contacts", "messages"},
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SYSTIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
CRM_TIMES = ("create_time", "last_modified_time", "close_date", "stg_changed_time", "order_time",
             "sign_date", "start_date", "end_date", "payment_time")


def _numeric(value):
    """U8 numbers: a JSON number or a numeric string with at most 2 decimals."""
    assert isinstance(value, (int, float, str)) and not isinstance(value, bool), value
    if isinstance(value, str):
        assert re.fullmatch(r"-?\d+(\.\d{1,2})?", value), value
    return Decimal(str(value))


def test_sections_and_objects(default_world):
    world = default_world.world
    assert set(world) == {"meta", *SECTIONS}
    assert world["meta"] == {"name": "generated-7", "seed": 7,
                             "now": "2026-11-20T09:00:00+08:00", "currency": "CNY"}
    for section, objects in SECTIONS.items():
        assert set(world[section]) == objects
        for name in objects:
            assert isinstance(world[section][name], list)
    for name in ("PersonnelObj", "AccountObj", "ContactObj", "NewOpportunityObj",
                 "ActiveRecordObj", "SalesOrderObj", "ContractObj", "PaymentObj"):
        assert world["crm"][name], name
    for section in ("u8", "finance", "wecom"):
        for name, records in world[section].items():
            assert records, name


def test_crm_records(default_world):
    crm = default_world.world["crm"]
    people = {p["_id"] for p in crm["PersonnelObj"]}
    accounts = {a["_id"]: a for a in crm["AccountObj"]}
    for name, records in crm.items():
        ids = [r["_id"] for r in records]
        assert len(ids) == len(set(ids)) and ids == sorted(ids), name
        for r in records:
            for field in CRM_TIMES:
                if field in r:
                    assert type(r[field]) is int, (name, field)
            assert all(v not in (None, "") for v in r.values()), (name, r)  # empty = omitted
            if "owner" in r:
                assert isinstance(r["owner"], list) and set(r["owner"]) <= people
    for p in crm["PersonnelObj"]:
        assert p.get("leader_id") in people | {None}
    for a in accounts.values():
        assert a["account_level"] in "SABC" and a["life_status"] == "normal"
    for o in crm["NewOpportunityObj"]:
        assert o["account_id"] in accounts
        assert o["account_id__r"] == accounts[o["account_id"]]["name"]
        assert isinstance(o["amount"], (int, float)) and round(o["amount"], 2) == o["amount"]
        assert o["sales_status"] in ("1", "2", "3") and o["sales_stage"] in "12345"
        assert (o["sales_stage"] == "5") == (o["sales_status"] == "2")
        assert o["create_time"] <= o["stg_changed_time"] <= o["last_modified_time"]
    for r in crm["ContactObj"] + crm["ActiveRecordObj"]:
        assert r["account_id"] in accounts


def test_u8_records(default_world):
    u8 = default_world.world["u8"]
    persons = {p["code"] for p in u8["person"]}
    customers = {c["code"] for c in u8["customer"]}
    orders = {o["code"] for o in u8["saleorderlist"]}
    for name, records in u8.items():
        assert all(not ({"page_index", "rows_per_page", "row_count"} & set(r)) for r in records)
        key = "invoiceno" if name == "saleinvoicelist" else "code"
        if name != "currentstock":
            keys = [r[key] for r in records]
            assert len(keys) == len(set(keys)), name
    for c in u8["customer"]:
        assert c["spec_operator"] in persons and SYSTIME.match(c["ModifyDate"])
        assert isinstance(c["taxno"], str)
    for o in u8["saleorderlist"]:
        assert DATE.match(o["date"]) and SYSTIME.match(o["createsystime"])
        assert o["state"] in ("Opening", "Approved", "Changing", "Closed")
        assert o["custcode"] in customers and o["personcode"] in persons
        assert re.fullmatch(r"SO\d{6}-\d{4}", o["code"])
        total = _numeric(o["sum"])
        assert total == sum(_numeric(x["natsum"]) for x in o["entry"])
        assert _numeric(o["money"]) < total
        for x in o["entry"]:
            assert _numeric(x["quantity"]) * _numeric(x["taxunitprice"]) == _numeric(x["natsum"])
    for d in u8["consignmentlist"]:
        assert DATE.match(d["date"]) and d["custcode"] in customers and d["entry"]
        assert _numeric(d["sum"]) == sum(_numeric(x["sum"]) for x in d["entry"])
        assert all(x["socode"] in orders for x in d["entry"])
    for i in u8["saleinvoicelist"]:
        assert DATE.match(i["date"]) and i["customercode"] in customers and i["entry"]
    for r in u8["oughtreceivelist"]:
        assert DATE.match(r["duedate"]) and r["duedate"] > r["date"]
        assert 0 <= _numeric(r["balance"]) <= _numeric(r["amount"])
    for r in u8["acceptlist"]:
        assert DATE.match(r["date"]) and r["custcode"] in customers and _numeric(r["amount"]) > 0


def test_receipts_never_exceed_invoices(default_world):
    """Except for the planted R9 receipts, nobody pays more than was invoiced."""
    u8 = default_world.world["u8"]
    planted = {e.anchor().rsplit(":", 1)[1] for e in default_world.plan.rules if e.rule == "R9"}
    invoiced, received = {}, {}
    for i in u8["saleinvoicelist"]:
        invoiced[i["customercode"]] = invoiced.get(i["customercode"], 0) + _numeric(i["sum"])
    for r in u8["acceptlist"]:
        if r["code"] not in planted:
            received[r["custcode"]] = received.get(r["custcode"], 0) + _numeric(r["amount"])
    assert all(amount <= invoiced.get(code, 0) for code, amount in received.items())


def test_finance_and_wecom_records(default_world):
    world = default_world.world
    codes = {c["code"] for c in world["u8"]["customer"]}
    ladder = ("AAA", "AA", "A", "BBB", "BB", "B", "C")
    for r in world["finance"]["credit_rating"]:
        assert r["customer_code"] in codes and DATE.match(r["rated_at"])
        assert r["rating"] in ladder and r["previous_rating"] in ladder
    drops = [ladder.index(r["rating"]) - ladder.index(r["previous_rating"])
             for r in world["finance"]["credit_rating"]]
    assert max(drops) >= 2 and min(drops) < 0  # downgrades by two notches and upgrades exist
    users = {u["userid"] for u in world["wecom"]["follow_users"]}
    externals = set()
    for x in world["wecom"]["external_contacts"]:
        ext, follow = x["external_contact"], x["follow_info"]
        externals.add(ext["external_userid"])
        assert follow["userid"] in users and type(follow["createtime"]) is int
        assert ext["type"] in (1, 2)
        assert ext.get("corp_full_name") or follow.get("remark_corp_name")
    messages = world["wecom"]["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["msgtime"] for m in messages] == sorted(m["msgtime"] for m in messages)
    for m in messages:
        assert {m["from"], *m["tolist"]} <= users | externals
        assert m["action"] == "send" and m["msgtype"] == "text" and m["text"]["content"]


def test_nothing_dated_after_now(default_world):
    """Except the one won deal planted with a close date in the future."""
    world = default_world.world
    now_ms = to_ms(parse_instant(world["meta"]["now"]))
    today = world["meta"]["now"][:10]
    future = {ref.rsplit(":", 1)[1] for ref in default_world.plan.cases["won_closing_after_now"]}
    for name, records in world["crm"].items():
        for r in records:
            for field in CRM_TIMES:
                if field == "end_date":  # a contract runs into the future
                    continue
                if field in r and not (field == "close_date" and r["_id"] in future):
                    assert r[field] <= now_ms, (name, field, r["_id"])
    for name, records in world["u8"].items():
        for r in records:
            for field in ("date", "createsystime", "verifysystime", "ModifyDate"):
                if field in r:
                    assert r[field][:10] <= today, (name, field)
    assert all(r["rated_at"] <= today for r in world["finance"]["credit_rating"])
    assert all(m["msgtime"] <= now_ms for m in world["wecom"]["messages"])
    assert all(x["follow_info"]["createtime"] * 1000 <= now_ms
               for x in world["wecom"]["external_contacts"])


def test_contracts_and_payments_follow_the_chain(default_world):
    world = default_world.world
    opps = {o["_id"]: o for o in world["crm"]["NewOpportunityObj"]}
    won = [o for o in opps.values() if o["sales_status"] == "2" and o["close_date"] <= NOW_MS]
    contracts = world["crm"]["ContractObj"]
    assert 0.6 * len(won) <= len(contracts) <= len(won)
    for k in contracts:
        o = opps[k["new_opportunity_id"]]
        assert o["sales_status"] == "2" and k["account_id"] == o["account_id"]
        assert k["contract_amount"] == o["amount"] and k["sign_date"] <= k["end_date"]
        assert k["contract_status"] in ("执行中", "已结束")
    receipts = {}
    for r in world["u8"]["acceptlist"]:
        receipts.setdefault((r["date"], _numeric(r["amount"])), r)
    accounts = {a["_id"] for a in world["crm"]["AccountObj"]}
    for p in world["crm"]["PaymentObj"]:
        day = to_date(p["payment_time"])
        assert (day, _numeric(p["payment_amount"])) in receipts and p["account_id"] in accounts


def to_date(ms):
    from simulators.generator.clock import day_of

    return day_of(ms).isoformat()


def test_golden_chain_holds_for_most_with_breaks(big_world):
    u8 = big_world.world["u8"]
    shipped = {x["socode"] for d in u8["consignmentlist"] for x in d["entry"]}
    orders = {o["code"] for o in u8["saleorderlist"]}
    share = len(shipped & orders) / len(orders)
    assert 0.7 <= share < 1.0  # most orders ship; some do not (yet)
    old = [r for r in u8["oughtreceivelist"] if r["date"] < "2026-05-01"]  # long due by now
    unpaid = [r for r in old if _numeric(r["balance"]) > 0]
    assert 0 < len(unpaid) < 0.3 * len(old)  # most settled; some never were
    assert len(u8["saleinvoicelist"]) < len(u8["consignmentlist"])  # some not invoiced yet


def test_contacts_inventory_and_texts(default_world):
    from simulators.generator.names import DECISION_MAKERS

    world = default_world.world
    titles = [c["job_title"] for c in world["crm"]["ContactObj"]]
    assert any(t in DECISION_MAKERS for t in titles) and any(t not in DECISION_MAKERS for t in titles)
    series = {i["sort_code"]: i["sort_name"] for i in world["u8"]["inventory"]}
    assert len(series) >= 5 and all(series.values())
    stocked = {s["invcode"] for s in world["u8"]["currentstock"]}
    assert stocked <= {i["code"] for i in world["u8"]["inventory"]}
    notes = [r["active_record_content"] for r in world["crm"]["ActiveRecordObj"]]
    chats = [m["text"]["content"] for m in world["wecom"]["messages"]]
    for texts in (notes, chats):
        assert any("竞品" in t or "竞争对手" in t for t in texts)
        assert any("技术" in t for t in texts)
    users = {u["userid"] for u in world["wecom"]["follow_users"]}
    directions = {m["from"] in users for m in world["wecom"]["messages"]}
    assert directions == {True, False}  # rep -> customer and customer -> rep
    assert any("downstream_customers__c" in a for a in world["crm"]["AccountObj"])


def test_big_worlds_get_more_reps():
    import random

    from simulators.generator.codes import Ids
    from simulators.generator.people import build_org, default_reps

    assert [default_reps(n) for n in (1, 60, 2000, 10_000, 100_000)] == [8, 10, 15, 20, 200]
    rng = random.Random(1)
    org = build_org(rng, Ids(rng), 100_000, None)
    reps = [e for e in org.staff if e.role == "rep"]
    assert len(reps) == 200
    for attr in ("name", "userid", "mobile", "u8_code", "crm_id"):
        assert len({getattr(e, attr) for e in org.staff}) == len(org.staff), attr
