"""An incremental build at an unchanged as-of recomputes customer_360 only for the customers its
changes reach (mappings/affected.py); every other row is kept from the last build. A customer the
change reaches but the build forgets keeps a stale row: these tests catch that. The completeness
index moves by the rows the build changed (mappings/completeness.py): it must equal a full count."""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from hub_core.schema_publish import customer_360_candidate as candidate
from hub_core.schema_unified import data_completeness
from mappings.build import build_customer360
from simulators.generator import generate
from tests.mappings.test_hostile_world import land_world

MARK = -1  # a health score no build computes: a row still carrying it was not recomputed


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.customer_id: {k: v for k, v in r._mapping.items() if k != "build_id"}
                for r in conn.execute(select(candidate))}


def completeness(engine) -> list[tuple]:
    d = data_completeness.c
    with engine.connect() as conn:
        return sorted(conn.execute(select(d.entity, d.system, d.owner_employee_id, d.records, d.complete_records,
                                          d.completeness_index)).all())


def mark_every_row(engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(candidate).values(health_score=MARK))


def a_days_changes(world: dict) -> dict:
    """Contacts moving (by account, by company name, and for a company name that turned
    ambiguous), a new decision maker and message, an account renamed and handed to another
    owner, a deal, an order and a product's class."""
    crm, u8, wecom = world["crm"], world["u8"], world["wecom"]
    accounts = crm["AccountObj"]
    person = wecom["external_contacts"][0]
    corp = dict(person["external_contact"], corp_full_name=accounts[5]["name"])
    message = dict(wecom["messages"][0], msgid="new-1", msgtime=wecom["messages"][0]["msgtime"] + 60_000,
                   text={"content": "友商的报价单更便宜，技术参数也一样"})
    stamp = accounts[6]["last_modified_time"] + 1
    renamed = dict(accounts[6], name=accounts[6]["name"] + "（新）", owner=accounts[1]["owner"], last_modified_time=stamp)
    orders = sorted(u8["saleorderlist"], key=lambda o: o["date"])
    code = next(e["inventorycode"] for o in reversed(orders) for e in o.get("entry") or [] if e.get("inventorycode"))
    item = next(i for i in u8["inventory"] if i["code"] == code)
    return {"crm": {"ContactObj": [dict(crm["ContactObj"][0], job_title="总经理", account_id=accounts[3]["_id"]),
                                   dict(crm["ContactObj"][1], account_id=accounts[4]["_id"])],
                    # another account takes this one's name: contacts linked by that company name are
                    # no longer sure which customer they belong to (they move without being landed)
                    "AccountObj": [renamed, dict(accounts[10], name=accounts[11]["name"], last_modified_time=stamp)],
                    "NewOpportunityObj": [dict(crm["NewOpportunityObj"][0], amount=123456,
                                               account_id=accounts[7]["_id"])]},
            "u8": {"saleorderlist": [dict(orders[0], sum="99,999.00")],
                   "inventory": [dict(item, sort_code="ZZ-NEW")]},
            "finance": {},
            "wecom": {"external_contacts": [dict(person, external_contact=corp)], "messages": [message]}}


def test_only_the_customers_a_change_reaches_are_recomputed(engine):
    world, _ = generate(7, customers=12)
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=as_of)
    before = rows(engine)
    mark_every_row(engine)
    land_world(engine, a_days_changes(world))
    inc = build_customer360(engine, as_of=as_of)
    assert inc.mode == "incremental" and inc.customer_360 == len(before)
    after_incremental, index = rows(engine), completeness(engine)
    full = build_customer360(engine, as_of=as_of, incremental=False)
    assert full.mode == "full"
    expected = rows(engine)
    assert index == completeness(engine)  # the index moved by the changed rows, as a full count finds it
    assert after_incremental.keys() == expected.keys()
    kept = {cid for cid, row in after_incremental.items() if row["health_score"] == MARK}
    for cid, row in expected.items():
        if cid in kept:  # not recomputed: only right if nothing of this customer changed
            assert row == before[cid], f"customer {cid} changed but its customer_360 row was not recomputed"
        else:
            assert after_incremental[cid] == row
    changed = {cid for cid in expected if expected[cid] != before.get(cid)}
    assert len(changed) >= 4  # the changes did reach several customers
    assert kept  # and the others were left alone


def test_a_moved_as_of_recomputes_every_customer(engine):
    world, _ = generate(7, customers=12)
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=as_of)
    mark_every_row(engine)
    land_world(engine, a_days_changes(world))
    later = as_of + timedelta(hours=1)
    assert build_customer360(engine, as_of=later).mode == "incremental"
    after_incremental = rows(engine)
    assert all(r["health_score"] != MARK for r in after_incremental.values())
    build_customer360(engine, as_of=later, incremental=False)
    assert rows(engine) == after_incremental
