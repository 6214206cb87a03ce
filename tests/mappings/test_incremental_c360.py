"""An incremental build recomputes customer_360 only for the customers its changes reach
(mappings/affected.py) and, when the as-of moved, for those the move reaches
(mappings/c360_asof.py); every other row is kept from the last build. A customer the
change reaches but the build forgets keeps a stale row: these tests catch that. The completeness
index moves by the rows the build changed (mappings/completeness.py): it must equal a full count."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from hub_core.schema import sync_run
from hub_core.schema_publish import customer_360_candidate as candidate
from hub_core.schema_unified import data_completeness
from mappings.build import build_customer360
from simulators.generator import generate
from tests.mappings.test_hostile_world import land_world

MARK = -1  # a health score no build computes: a row still carrying it was not recomputed
KEPT = "(kept)"  # a name no build computes: a row still carrying it was not recomputed whole


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
        conn.execute(update(candidate).values(health_score=MARK, name=KEPT))


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


def built_and_marked(engine) -> tuple[dict, datetime, dict]:
    """A 12-customer world landed and built, every customer_360 row marked: (world, as-of, rows)."""
    world, _ = generate(7, customers=12)
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=as_of)
    before = rows(engine)
    mark_every_row(engine)
    return world, as_of, before


def test_only_the_customers_a_change_reaches_are_recomputed(engine):
    world, as_of, before = built_and_marked(engine)
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


def synced(engine, at: datetime) -> None:
    """A successful sync of every source finishing at ``at`` (the freshness columns move)."""
    with engine.begin() as conn:
        conn.execute(insert(sync_run), [{"source": s, "started_at": at, "finished_at": at, "status": "succeeded"}
                                        for s in ("crm", "u8", "finance", "wecom")])


def assert_as_full(engine, before: dict, as_of: datetime) -> set[str]:
    """The candidate equals a full rebuild's at ``as_of``; a row not recomputed whole (still named
    KEPT) must have come out the same but for what time moves (as-of, freshness, a rescored
    health score: one still MARKed was not rescored). Returns the customers not recomputed whole."""
    after = rows(engine)
    kept = {cid for cid, row in after.items() if row["name"] == KEPT}
    for cid in kept:
        after[cid]["name"] = before[cid]["name"]
        if after[cid]["health_score"] == MARK:
            after[cid]["health_score"] = before[cid]["health_score"]
    assert build_customer360(engine, as_of=as_of, incremental=False).mode == "full"
    expected = rows(engine)
    assert after.keys() == expected.keys()
    wrong = sorted(cid for cid in expected if after[cid] != expected[cid])
    assert not wrong, f"as of {as_of}: rows differ from a full rebuild: {wrong[:5]}"
    return kept


@pytest.mark.parametrize("move", [timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(days=31),
                                  timedelta(days=-2)], ids=["same-as-of", "1h", "1d", "31d", "back-2d"])
def test_a_moved_as_of_recomputes_only_what_time_changes(engine, move):
    """hub run builds as of now after a sync: the as-of moves (within the day or across days) and
    the freshness columns change; the rows time does not reach are kept, yet all equal a full build."""
    world, as_of, before = built_and_marked(engine)
    land_world(engine, a_days_changes(world))
    synced(engine, as_of + timedelta(minutes=30))
    later = as_of + move
    assert build_customer360(engine, as_of=later).mode == "incremental"
    kept = assert_as_full(engine, before, later)
    if move <= timedelta(hours=1):
        assert kept  # a small move leaves customers alone (a day's moves all 12 here)


@pytest.mark.parametrize("move", [timedelta(minutes=5), timedelta(days=1), timedelta(days=100)],
                         ids=["5min", "1d", "100d"])
def test_nothing_landed_and_a_moved_as_of_refreshes_only_what_time_changes(engine, move):
    world, as_of, before = built_and_marked(engine)
    synced(engine, as_of + timedelta(minutes=1))
    later = as_of + move
    assert build_customer360(engine, as_of=later).mode == "unchanged"
    kept = assert_as_full(engine, before, later)
    if move < timedelta(days=100):
        assert kept

