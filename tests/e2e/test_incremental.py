"""Re-syncs land only what changed; one malformed record or unreadable document never stops a
sync; records gone from a complete full-table pass are soft-deleted."""

import pytest
from sqlalchemy import func, select

from connectors import warm_taps
from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.schema import customer_xref, raw_record, raw_reject, sync_run
from mappings.build import build_customer360
from simulators.generator import generate
from simulators.server import SimulatorServer
from tests.e2e.worlds import handmade_world, ms

pytestmark = pytest.mark.slow


def sync_all(engine, sources):
    return {s.name: sync_source(engine, s) for s in sources}


@pytest.fixture
def served(monkeypatch):
    with warm_taps.session(), SimulatorServer(handmade_world()) as server:  # taps forked warm, as `hub run`'s
        data, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        yield server, parse_sources(data)


def test_second_sync_lands_nothing_and_n_changes_land_n(engine, served):
    server, sources = served
    first = sync_all(engine, sources)
    assert all(r.status == "succeeded" for r in first.values()), {k: r.error for k, r in first.items()}
    assert sum(r.landed for r in first.values()) > 15
    second = sync_all(engine, sources)
    assert sum(r.landed for r in second.values()) == 0
    assert second["crm"].seen == 0  # the CRM tap resumed from its bookmark: nothing re-read
    assert "saleorderlist" not in second["u8"].per_stream  # unchanged orders: not even emitted
    # change three records: two CRM deals (the CRM bumps last_modified_time) and one U8 order
    opps = server.world.data["crm"]["NewOpportunityObj"]
    for o in opps[:2]:
        o["amount"] += 1000
        o["last_modified_time"] = ms(0)
    server.world.data["u8"]["saleorderlist"][0]["sum"] = "150001.00"
    third = sync_all(engine, sources)
    assert {k: r.landed for k, r in third.items()} == {"crm": 2, "u8": 1, "finance": 0, "wecom": 0}
    assert third["crm"].seen == 2  # only the two changed deals were read
    # a CRM deal deleted by flag is an ordinary record: it landed and stays current and live
    with engine.connect() as conn:
        data, deleted_at = conn.execute(select(raw_record.c.data, raw_record.c.deleted_at).where(
            raw_record.c.source == "crm", raw_record.c.record_key == "O5", raw_record.c.is_current)).one()
    assert '"is_deleted":true' in data and deleted_at is None


def test_malformed_record_is_counted_and_the_rest_lands(engine, served):
    server, sources = served
    orders = server.world.data["u8"]["saleorderlist"]
    orders[1]["date"] = "not-a-date"
    result = sync_source(engine, next(s for s in sources if s.name == "u8"))
    assert result.status == "partial"  # complete, one record waits in the quarantine
    assert result.rejected == 1
    assert result.per_stream["saleorderlist"]["landed"] == len(orders) - 1
    with engine.connect() as conn:
        reason = conn.execute(select(raw_reject.c.reason)).scalar_one()
        assert conn.execute(select(func.count()).select_from(raw_reject)).scalar_one() == 1
    assert "not-a-date" in reason


DOCUMENT_GETS = ("/api/saleorder/get", "/api/consignment/get", "/api/saleinvoice/get")


@pytest.fixture
def generated(monkeypatch):
    world, _ = generate(11, customers=30)
    with warm_taps.session(), SimulatorServer(world) as server:
        data, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        data["sources"]["u8"]["config"].update(max_tries=2, backoff_factor=0.01)
        yield server, next(s for s in parse_sources(data) if s.name == "u8")


def latest_orders(world_u8: dict, n: int) -> list[dict]:
    return sorted(world_u8["saleorderlist"], key=lambda o: o["date"])[-n:]


def test_unchanged_u8_resync_fetches_no_document_and_n_changes_land_n(engine, generated):
    server, u8 = generated
    calls = server.sims["u8"].calls
    first = sync_source(engine, u8)
    assert first.status == "succeeded", first.error
    fetched = sum(calls[p] for p in DOCUMENT_GETS)
    assert fetched == sum(len(server.world.data["u8"][r]) for r in ("saleorderlist", "consignmentlist",
                                                                      "saleinvoicelist"))
    calls.clear()
    second = sync_source(engine, u8)
    assert second.status == "succeeded" and second.landed == 0
    assert sum(calls[p] for p in DOCUMENT_GETS) == 0  # not one unchanged document fetched again
    assert second.seen < first.seen / 4  # the full tables and nothing else
    for order in latest_orders(server.world.data["u8"], 3):
        order["cmemo"] = "edited after the first sync"  # a header field the U8 list returns
    calls.clear()
    third = sync_source(engine, u8)
    assert third.landed == 3 and third.per_stream["saleorderlist"]["landed"] == 3
    assert calls["/api/saleorder/get"] == 3


def test_an_unreadable_document_is_set_aside_and_the_source_succeeds(engine, generated):
    server, u8 = generated
    broken = latest_orders(server.world.data["u8"], 1)[0]
    server.sims["u8"].document_faults[broken["code"]] = "99999"
    result = sync_source(engine, u8)
    assert result.status == "partial", result.error
    assert result.rejected == 1
    orders = len(server.world.data["u8"]["saleorderlist"])
    assert result.per_stream["saleorderlist"] == {"seen": orders, "landed": orders - 1, "rejected": 1,
                                                  "deleted": 0, "quarantined": 1, "duplicates": 0,
                                                  "drifted": 0, "frozen": 0, "withheld": 0, "live": 0,
                                                  "unchanged": 0}
    with engine.connect() as conn:
        reject = conn.execute(select(raw_reject)).one()
        recorded = conn.execute(select(sync_run.c.records_rejected)).scalar_one()
    assert (reject.stream, reject.record_key) == ("saleorderlist", broken["code"])
    assert "99999" in reject.reason and recorded == 1
    # fixed at the source: the next run fetches it (and nothing else)
    del server.sims["u8"].document_faults[broken["code"]]
    server.sims["u8"].calls.clear()
    again = sync_source(engine, u8)
    assert again.per_stream["saleorderlist"]["landed"] == 1
    assert server.sims["u8"].calls["/api/saleorder/get"] == 1
    assert again.status == "succeeded"  # nothing set aside this time
    with engine.connect() as conn:  # the quarantined entry closed itself once the record landed
        assert conn.execute(select(raw_reject.c.status)).scalar_one() == "superseded"


def live_customers(engine) -> tuple[set, set]:
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.record_key, raw_record.c.deleted_at).where(
            raw_record.c.source == "u8", raw_record.c.stream == "customer", raw_record.c.is_current)).all()
    return {k for k, d in rows if d is None}, {k for k, d in rows if d is not None}


def test_customer_removed_at_the_source_is_soft_deleted_only_after_a_complete_pass(engine, generated):
    server, u8 = generated
    assert sync_source(engine, u8).status == "succeeded"
    customers = server.world.data["u8"]["customer"]
    gone = customers.pop(3)
    # a run that fails (customers read whole, then the orders are refused) deletes nothing
    server.inject_fault("u8", count=1, code="40001", path="/api/saleorderlist/batch_get")
    failing = u8.model_copy(update={"config": {**u8.config, "resources": ["customer", "saleorderlist"]}})
    assert sync_source(engine, failing).status == "failed"
    live, deleted = live_customers(engine)
    assert gone["code"] in live and not deleted
    # a complete pass marks it deleted; its return brings it back
    result = sync_source(engine, u8)
    assert result.status == "succeeded" and result.per_stream["customer"]["deleted"] == 1
    assert live_customers(engine)[1] == {gone["code"]}
    ref = f"u8:customer:{gone['code']}"
    build_customer360(engine)  # the deleted customer leaves the unified model
    assert ref not in crosswalk_refs(engine)
    customers.insert(3, gone)
    back = sync_source(engine, u8)
    assert back.per_stream["customer"]["landed"] == 1
    assert live_customers(engine)[1] == set()
    build_customer360(engine)
    assert ref in crosswalk_refs(engine)


def crosswalk_refs(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(customer_xref.c.ref)).scalars())
