"""Full-table streams (U8 customers, WeCom contacts) emit only what changed on an incremental sync,
and the raw tables end exactly as with every record emitted: same rows, hashes, current and
deleted flags, through changes, additions, deletions and returns (connectors/kit/unchanged.py)."""

import copy

import pytest
from sqlalchemy import select

from connectors import warm_taps
from connectors.kit.unchanged import FORCE_KEY
from connectors.landed_prints import landed_offer
from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.schema import raw_record, sync_run
from hub_core.warehouse import open_warehouse
from simulators.generator import generate
from simulators.server import SimulatorServer
from tests import templates

pytestmark = pytest.mark.slow


@pytest.fixture
def world(monkeypatch):
    world, _ = generate(11, customers=30)
    # every sync's tap forks from one warm launcher (as `hub run` and a multi-source sync start
    # them), not a fresh interpreter importing singer_sdk: 16 syncs in the first test
    with warm_taps.session(), SimulatorServer(world) as server:
        data, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        for name in ("u8", "wecom"):
            data["sources"][name]["config"].update(max_tries=2, backoff_factor=0.01)
        yield server, [s for s in parse_sources(data) if s.name in ("u8", "wecom")]


@pytest.fixture
def reference(request, tmp_path):
    """A second warehouse, synced with every record emitted (``emit_unchanged``): today's landing."""
    url = f"sqlite:///{tmp_path}/reference.db"
    templates.copy_sqlite(request.getfixturevalue("_migrated_sqlite"), url)
    eng = open_warehouse(url)
    yield eng
    eng.dispose()


def raw(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.source, raw_record.c.stream, raw_record.c.record_key,
                                   raw_record.c.record_hash, raw_record.c.is_current,
                                   raw_record.c.deleted_at.is_not(None))).all()
    return sorted(tuple(r) for r in rows)


def both(engine, reference, sources) -> dict:
    """Sync every source into both warehouses; the results of the skipping one."""
    results = {}
    for source in sources:
        results[source.name] = sync_source(engine, source)
        forced = source.model_copy(update={"config": {**source.config, FORCE_KEY: True}})
        assert sync_source(reference, forced).status == results[source.name].status
    assert raw(engine) == raw(reference)
    return results


def test_unchanged_records_are_not_emitted_and_the_raw_tables_match_a_full_emit(engine, reference, world):
    server, sources = world
    u8, wecom = server.world.data["u8"], server.world.data["wecom"]
    first = both(engine, reference, sources)
    assert all(r.status == "succeeded" for r in first.values()), {k: r.error for k, r in first.items()}
    assert first["u8"].per_stream["customer"]["unchanged"] == 0  # a first sync emits everything

    second = both(engine, reference, sources)
    customers, contacts = len(u8["customer"]), len(wecom["external_contacts"])
    assert second["u8"].per_stream["customer"] | {"live": 0} == {
        "seen": customers, "unchanged": customers, "landed": 0, "rejected": 0, "deleted": 0, "quarantined": 0,
        "duplicates": 0, "drifted": 0, "frozen": 0, "withheld": 0, "live": 0}
    assert second["wecom"].per_stream["external_contacts"]["unchanged"] == contacts

    # simulators cache a list by its identity and length: each change gives a new list
    u8["customer"][0]["phone"] = "021-00000000"  # changed
    gone = u8["customer"][5]  # deleted at the source
    added = copy.deepcopy(u8["customer"][1]) | {"code": "999999", "name": "新客户有限公司"}
    u8["customer"] = [c for c in u8["customer"] if c is not gone] + [added]
    wecom["external_contacts"][2]["follow_info"]["remark"] = "改过的备注"
    left = wecom["external_contacts"][7]
    wecom["external_contacts"] = [c for c in wecom["external_contacts"] if c is not left]
    third = both(engine, reference, sources)
    customer = third["u8"].per_stream["customer"]
    assert (customer["landed"], customer["deleted"], customer["unchanged"]) == (2, 1, customers - 2)
    contact = third["wecom"].per_stream["external_contacts"]
    assert (contact["landed"], contact["deleted"], contact["unchanged"]) == (1, 1, contacts - 2)

    u8["customer"] = [*u8["customer"], gone]  # back, unchanged: lands a live version again
    wecom["external_contacts"] = [*wecom["external_contacts"], left]
    fourth = both(engine, reference, sources)
    assert fourth["u8"].per_stream["customer"]["landed"] == 1
    assert fourth["wecom"].per_stream["external_contacts"]["landed"] == 1


def test_nothing_is_offered_after_a_failed_run_or_for_a_drifted_stream(engine, world):
    server, sources = world
    u8 = next(s for s in sources if s.name == "u8")
    assert sync_source(engine, u8).status == "succeeded"
    with engine.connect() as conn:
        last = conn.execute(select(sync_run.c.id).order_by(sync_run.c.id.desc())).scalars().first()
    offer, keys = landed_offer(engine, "u8", last + 1)
    assert set(offer) == {"customer", "person"}  # the full-table streams it read
    assert len(keys["customer"]) == len(server.world.data["u8"]["customer"])
    server.inject_fault("u8", count=1, code="40001", path="/api/customer/batch_get")
    assert sync_source(engine, u8).status == "failed"
    assert landed_offer(engine, "u8", last + 2) == ({}, {})
    after = sync_source(engine, u8)  # everything emitted once: lands nothing new
    assert after.status == "succeeded" and after.landed == 0
    assert after.per_stream["customer"]["unchanged"] == 0
    server.world.data["u8"]["customer"][0]["extra_field"] = {"nested": 1}  # drifts (a new field)
    drifted = sync_source(engine, u8)
    assert drifted.per_stream["customer"]["drifted"] == 1
    offer, _ = landed_offer(engine, "u8", last + 10)
    assert "customer" not in offer and "person" in offer
