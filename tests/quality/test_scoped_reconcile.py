"""A reconcile after incremental builds evaluates its rules only for the customers whose findings
can have changed (quality/scope.py): the customers the builds touched and those the as-of's move
takes across a rule's time bound. Its stored result must equal a full reconcile's row for row:
these tests run the scoped reconcile, put the warehouse back as it was before it, run a full
reconcile and compare ``discrepancy``, ``deal_order_pair`` and ``source_health`` (all but
``source_health.checked_at`` / ``last_good_at``: the wall-clock time of the check)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select

from hub_core.schema import customer, deal_order_pair, discrepancy, reconcile_run
from hub_core.schema_rules import source_health
from hub_core.schema_unified import build_customer
from mappings.build import build_customer360
from quality.reconcile import reconcile
from simulators.generator import generate
from tests.mappings.test_hostile_world import land_world
from tests.mappings.test_incremental_c360 import a_days_changes

WRITTEN = (discrepancy, deal_order_pair, source_health, reconcile_run, build_customer)  # what a reconcile writes
WALL_CLOCK = {"checked_at", "last_good_at"}


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in WRITTEN}


def restore(engine, snap: dict) -> None:
    with engine.begin() as conn:
        for t in WRITTEN:
            conn.execute(delete(t))
            if snap[t.name]:
                conn.execute(insert(t), snap[t.name])


def compared(engine) -> dict:
    """The three tables, every column but the wall-clock ones, rows sorted."""
    out = {}
    with engine.connect() as conn:
        for t in (discrepancy, deal_order_pair, source_health):
            cols = [c for c in t.c if c.name not in WALL_CLOCK]
            out[t.name] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
    return out


def more_changes(world: dict) -> dict:
    """A second day's changes (a second incremental build before the reconcile): a deal deleted in
    CRM, a deal moved to another account, an order re-dated and re-priced, a new order."""
    crm, u8 = world["crm"], world["u8"]
    opps, accounts = crm["NewOpportunityObj"], crm["AccountObj"]
    orders = sorted(u8["saleorderlist"], key=lambda o: o["date"])
    new_order = dict(orders[-1], code=orders[-1]["code"] + "-N", sum="55,555.00")
    return {"crm": {"NewOpportunityObj": [dict(opps[2], is_deleted=True, life_status="invalid"),
                                          dict(opps[3], account_id=accounts[2]["_id"],
                                               last_modified_time=opps[3]["last_modified_time"] + 1)]},
            "u8": {"saleorderlist": [dict(orders[1], date=orders[-1]["date"], sum="1,234.00"), new_order]},
            "finance": {}, "wecom": {}}


@pytest.mark.parametrize("move", [timedelta(0), timedelta(hours=1), timedelta(hours=30), timedelta(days=3),
                                  timedelta(days=40)], ids=["same-as-of", "1h", "30h", "3d", "40d"])
def test_a_scoped_reconcile_stores_what_a_full_one_does(engine, move):
    world, _ = generate(11, customers=30)
    land_world(engine, world)
    t0 = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=t0)
    first = reconcile(engine, as_of=t0)
    assert first.mode == "full" and first.why_full == "first reconcile"
    t1 = t0 + move
    land_world(engine, a_days_changes(world))
    assert build_customer360(engine, as_of=t0 + move / 2).mode == "incremental"
    land_world(engine, more_changes(world))
    assert build_customer360(engine, as_of=t1).mode == "incremental"
    before = snapshot(engine)

    scoped = reconcile(engine, as_of=t1)
    assert scoped.mode == "scoped", scoped.why_full
    got = compared(engine)
    restore(engine, before)
    full = reconcile(engine, as_of=t1, full=True)
    assert full.mode == "full"
    expected = compared(engine)

    for table in expected:
        assert got[table] == expected[table], f"{table} differs from a full reconcile's as of +{move}"
    assert len(expected["discrepancy"]) > 30  # the world has findings to get wrong
    with engine.connect() as conn:
        customers = conn.execute(select(func.count()).select_from(customer)).scalar_one()
    assert 0 < scoped.scope_customers <= customers
    if move <= timedelta(hours=1):
        assert scoped.scope_customers < customers  # a scope, not every customer
    assert scoped.found == full.found
    assert scoped.persisted.per_rule == full.persisted.per_rule
    assert scoped.pairs == full.pairs


def test_a_full_build_changed_thresholds_or_no_build_record_reconcile_in_full(engine):
    """What cannot be scoped runs in full: a changed threshold, a full build since, a build that
    recorded no customers; a run after one that was scoped goes on scoped."""
    from quality.config import load_rules

    world, _ = generate(11, customers=12)
    land_world(engine, world)
    t0 = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=t0)
    reconcile(engine, as_of=t0)
    assert reconcile(engine, as_of=t0 + timedelta(hours=1)).mode == "scoped"
    cfg = load_rules()
    cfg.rules.R7.yellow_hours = 47
    changed = reconcile(engine, as_of=t0 + timedelta(hours=2), config=cfg)
    assert changed.mode == "full" and "thresholds" in changed.why_full
    assert reconcile(engine, as_of=t0 + timedelta(hours=3)).mode == "full"  # and back again
    assert reconcile(engine, as_of=t0 + timedelta(hours=4)).mode == "scoped"
    build_customer360(engine, as_of=t0, incremental=False)
    assert "full build" in reconcile(engine, as_of=t0 + timedelta(hours=5)).why_full
    assert reconcile(engine, as_of=t0 + timedelta(hours=6), full=True).mode == "full"
