"""Incremental builds: only records landed since the last build are mapped; an unchanged rebuild
touches nothing; the result always equals a full rebuild."""

from datetime import timedelta

from sqlalchemy import select

from hub_core.schema import metadata

# a build writes the candidate; the publish gate copies it into customer_360 (mappings/publish.py)
from hub_core.schema_publish import customer_360_candidate as customer_360
from hub_core.schema_unified import mapping_quarantine
from mappings.build import _REBUILT, build_customer360
from tests.mappings.landing import land
from tests.mappings.test_customer360 import T, rating, small_world

SKIP = {"build_id", "id"}  # bookkeeping that differs between builds by design


def snapshot(engine) -> dict:
    out = {}
    with engine.connect() as conn:
        for name in _REBUILT:
            table = metadata.tables[name]
            cols = [c for c in table.c if c.name not in SKIP]
            out[name] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*cols)))
    return out


def test_unchanged_rebuild_touches_nothing(engine):
    small_world(engine)
    first = build_customer360(engine, as_of=T)
    before = snapshot(engine)
    again = build_customer360(engine, as_of=T)
    assert (first.mode, again.mode) == ("full", "unchanged")
    assert again.rows == {} and snapshot(engine) == before
    with engine.connect() as conn:  # customer_360 was not even rewritten
        assert set(conn.execute(select(customer_360.c.build_id)).scalars()) == {first.build_id}
    later = build_customer360(engine, as_of=T + timedelta(days=1))  # a new as-of refreshes customer_360 only
    assert later.mode == "unchanged" and later.customer_360 == 1


def test_incremental_maps_only_changes_and_equals_a_full_build(engine):
    small_world(engine)
    build_customer360(engine, as_of=T)
    land(engine, "u8", "saleorderlist", ["code"], [
        {"code": "SO1", "date": "2026-11-10", "custcode": "U1", "sum": "2,000.00", "entry": [{"inventorycode": "X"}]}],
        run_id=3)
    land(engine, "u8", "acceptlist", ["code"], [{"code": "K9", "date": "2026-11-16", "custcode": "U1", "amount": 1}],
         run_id=3)
    land(engine, "finance", "credit_rating", ["customer_code"], [rating("2026-11-01", "B", "BBB")], run_id=3)
    inc = build_customer360(engine, as_of=T)
    assert inc.mode == "incremental"
    assert inc.rows == {"sales_order": 1, "sales_order_line": 1, "receipt": 1, "credit_rating": 3}
    with engine.connect() as conn:
        r = conn.execute(select(customer_360)).one()
    assert r.revenue_12m_cents == 200000 + 20050 and r.last_receipt_day.isoformat() == "2026-11-16"
    assert (r.credit_rating, r.credit_rating_change) == ("B", -2)
    after_incremental = snapshot(engine)
    full = build_customer360(engine, as_of=T, incremental=False)
    assert full.mode == "full" and snapshot(engine) == after_incremental


def test_incremental_quarantine_follows_the_record(engine):
    small_world(engine)
    build_customer360(engine, as_of=T)
    land(engine, "u8", "saleorderlist", ["code"], [{"code": "SO1", "date": "2026-11-10", "custcode": "U1",
                                                   "sum": "12,3O0.OO"}], run_id=3)
    broken = build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        assert conn.execute(select(mapping_quarantine.c.ref)).scalars().all() == ["u8:saleorderlist:SO1"]
        assert conn.execute(select(customer_360.c.revenue_12m_cents)).scalar_one() == 20050  # SO1 is out
    land(engine, "u8", "saleorderlist", ["code"], [{"code": "SO1", "date": "2026-11-10", "custcode": "U1",
                                                   "sum": "1000"}], run_id=4)
    fixed = build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        assert conn.execute(select(mapping_quarantine.c.ref)).scalars().all() == []
        assert conn.execute(select(customer_360.c.revenue_12m_cents)).scalar_one() == 120050
    assert (broken.mode, fixed.mode, broken.quarantined_total) == ("incremental", "incremental", 1)


def test_changed_configuration_or_employees_force_a_full_build(engine):
    small_world(engine)
    build_customer360(engine, as_of=T)
    land(engine, "crm", "PersonnelObj", ["_id"], [{"_id": "3", "name": "新人", "mobile": "13800000003"}], run_id=3)
    assert build_customer360(engine, as_of=T).mode == "full"
    from mappings.c360_config import load_c360

    cfg = load_c360()
    cfg.health.high_intent_at = 90
    assert build_customer360(engine, as_of=T, c360=cfg).mode == "full"


def test_an_override_recorded_since_the_last_build_takes_effect_without_new_data(engine):
    """An IT link/split lands no raw record; the next build must still re-resolve (not 'unchanged')."""
    from hub_core.schema import customer_xref
    from mappings.identity.overrides import record_override

    def owners(conn):
        return dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)
                                 .where(customer_xref.c.ref.in_(["crm:AccountObj:A1", "u8:customer:U1"]))).all())

    small_world(engine)
    build_customer360(engine, as_of=T)
    with engine.begin() as conn:
        assert len(set(owners(conn).values())) == 1  # same USCC: one customer
        record_override(conn, "u8:customer:U1", "split", None, "it", "a different company")
    split = build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        assert split.mode == "full" and len(set(owners(conn).values())) == 2
    assert build_customer360(engine, as_of=T).mode == "unchanged"  # applied once; nothing pending now
    with engine.begin() as conn:
        record_override(conn, "u8:customer:U1", "release", None, "it", "undo")
    released = build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        assert released.mode == "full" and len(set(owners(conn).values())) == 1


def test_a_days_changes_to_a_generated_world_build_incrementally_as_in_full(engine):
    """Contacts moving between customers, a new decision maker, new and edited messages, deals,
    orders and an account rename: the incremental build (which links and stages only the rows
    that can differ) leaves every derived table exactly as a full rebuild does."""
    from datetime import datetime

    from hub_core.schema import (
        customer,
        customer_xref,
        stg_opportunity,
        stg_sales_order,
    )
    from hub_core.schema_identity import contact_xref, customer_record
    from simulators.generator import generate
    from tests.mappings.test_hostile_world import land_world

    world, _ = generate(7, customers=12)
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=as_of)
    crm, u8, wecom = world["crm"], world["u8"], world["wecom"]
    accounts = crm["AccountObj"]
    contact = dict(crm["ContactObj"][0], job_title="总经理", account_id=accounts[3]["_id"])
    other = dict(crm["ContactObj"][1], account_id=accounts[4]["_id"])
    person = wecom["external_contacts"][0]
    corp = dict(person["external_contact"], corp_full_name=accounts[5]["name"])
    moved = dict(person, external_contact=corp)
    message = dict(wecom["messages"][0], msgid="new-1", msgtime=wecom["messages"][0]["msgtime"] + 60_000,
                   text={"content": "友商的报价单更便宜，技术参数也一样"})
    renamed = dict(accounts[6], name=accounts[6]["name"] + "（新）", last_modified_time=accounts[6]["last_modified_time"] + 1)
    deal = dict(crm["NewOpportunityObj"][0], amount=123456, account_id=accounts[7]["_id"])
    order = dict(u8["saleorderlist"][0], sum="99,999.00")
    land_world(engine, {"crm": {"ContactObj": [contact, other], "AccountObj": [renamed], "NewOpportunityObj": [deal]},
                        "u8": {"saleorderlist": [order]}, "finance": {},
                        "wecom": {"external_contacts": [moved], "messages": [message]}})
    inc = build_customer360(engine, as_of=as_of)
    assert inc.mode == "incremental" and 0 < sum(inc.rows.values()) < 20

    def everything():
        out = snapshot(engine)
        with engine.connect() as conn:
            for table in (customer, customer_xref, contact_xref, customer_record, stg_opportunity, stg_sales_order):
                cols = [c for c in table.c if c.name not in SKIP | {"changed_at"}]
                out[table.name] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*cols)))
        return out

    after_incremental = everything()
    with engine.connect() as conn:  # the changes did reach the derived columns
        from hub_core.schema_unified import interaction

        flags = conn.execute(select(interaction.c.mentions_competitor, interaction.c.is_document)
                             .where(interaction.c.ref.like("%new-1"))).one()
    assert tuple(flags) == (True, True)
    full = build_customer360(engine, as_of=as_of, incremental=False)
    assert full.mode == "full" and everything() == after_incremental


def test_contacts_linked_by_company_follow_renamed_records_they_were_not_mapped_with(engine):
    """A contact linked by company name is not re-mapped when a customer record takes its company's
    name, or drops it: the incremental build still links it again (contact_company: the contacts
    naming a changed record's name before or after), exactly as a full rebuild does."""
    from datetime import datetime

    from hub_core.schema import customer_xref
    from hub_core.schema_identity import contact_company
    from hub_core.schema_unified import contact
    from simulators.generator import generate
    from tests.mappings.test_hostile_world import land_world

    world, _ = generate(7, customers=12)
    accounts, people = world["crm"]["AccountObj"], world["wecom"]["external_contacts"]
    fresh_name = "绵竹新鸿途精密机电有限公司"
    waiting = dict(people[0], external_contact=dict(people[0]["external_contact"], corp_full_name=fresh_name))
    named = dict(people[1], external_contact=dict(people[1]["external_contact"], corp_full_name=accounts[5]["name"]))
    world["wecom"]["external_contacts"] = [waiting, named, *people[2:]]
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=as_of)
    refs = [f"wecom:external_contacts:{p['external_contact']['external_userid']}" for p in (waiting, named)]

    def customers_of(conn):
        c = contact.c
        return dict(conn.execute(select(c.ref, c.customer_id).where(c.ref.in_(refs))).all())

    with engine.connect() as conn:
        before = customers_of(conn)
        assert set(conn.execute(select(contact_company.c.ref)).scalars()) >= set(refs)  # kept for the next build
    assert before[refs[0]] is None  # nobody carries that name yet
    taker = dict(accounts[6], name=fresh_name, last_modified_time=accounts[6]["last_modified_time"] + 1)
    dropper = dict(accounts[5], name=accounts[5]["name"] + "旧址", last_modified_time=accounts[5]["last_modified_time"] + 1)
    land_world(engine, {"crm": {"AccountObj": [taker, dropper]}, "u8": {}, "finance": {}, "wecom": {}})
    inc = build_customer360(engine, as_of=as_of)
    assert inc.mode == "incremental" and "contact" not in inc.rows  # the contacts were not re-mapped
    with engine.connect() as conn:
        after = customers_of(conn)
        taker_id = conn.execute(select(customer_xref.c.customer_id)
                                .where(customer_xref.c.ref == f"crm:AccountObj:{taker['_id']}")).scalar_one()
    assert after[refs[0]] == taker_id
    after_incremental = snapshot(engine)
    full = build_customer360(engine, as_of=as_of, incremental=False)
    assert full.mode == "full" and snapshot(engine) == after_incremental


def test_a_full_build_leaves_planner_statistics_for_the_next_ones(engine):
    """PostgreSQL: a full build analyses every table it reads (the bench's server runs without
    autovacuum; an incremental build's look-ups were planned as whole-table scans without them),
    so the next build finds nothing stale; SQLite: nothing to do."""
    from sqlalchemy import func, text

    from hub_core import planner_stats
    from mappings.build import _tables_read

    small_world(engine)
    build_customer360(engine, as_of=T)
    tables = _tables_read()
    if engine.dialect.name == "postgresql":  # the build's rows counted, then analysed: none counts as changed since
        with engine.connect() as conn:
            inserted, changed = conn.execute(text("SELECT n_tup_ins, n_mod_since_analyze FROM pg_stat_user_tables "
                                                  "WHERE relid = to_regclass('customer')")).one()
        assert inserted and changed == 0, (inserted, changed)
    assert {"customer_record_block", "raw_record", "interaction", "invoice_line"} <= {t.name for t in tables}
    with engine.connect() as conn:
        assert planner_stats.refresh(conn, tables) == []  # nothing missing or stale
        if engine.dialect.name == "postgresql":  # (the test's schema is the first on the search path)
            with_rows = [t.name for t in tables if conn.execute(select(func.count()).select_from(t)).scalar()]
            analysed = conn.execute(text("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
                                         "AND tablename = ANY(CAST(:n AS text[]))"), {"n": with_rows}).scalars()
            assert "customer_record_block" in with_rows and sorted(analysed) == sorted(with_rows)


def test_an_incremental_build_does_not_analyse_the_candidate_it_only_restamped(engine):
    """PostgreSQL: every build sets build_id on all the candidate's kept rows, so by the change
    counters the candidate looked stale at the start of every incremental build (~0.27 s at 10k
    customers). It is judged by its size instead: same size, no ANALYZE."""
    import pytest
    from sqlalchemy import text, update

    from hub_core import planner_stats
    from hub_core.schema_publish import customer_360_candidate
    from mappings.build import _refresh_statistics

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics")
    small_world(engine)
    build_customer360(engine, as_of=T)
    with engine.begin() as conn:  # what builds do to the rows they keep (here: enough builds to count)
        for _ in range(60):
            conn.execute(update(customer_360_candidate).values(build_id=customer_360_candidate.c.build_id + 1))
        planner_stats.report_at_commit(conn)
    with engine.connect() as conn:
        changed = conn.execute(text("SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                                    "WHERE relid = to_regclass('customer_360_candidate')")).scalar_one()
        assert changed > 50  # stale by the counters
        assert _refresh_statistics(conn) == []
        assert planner_stats.refresh(conn, [customer_360_candidate]) == ["customer_360_candidate"]
