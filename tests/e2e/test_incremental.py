"""Re-syncs land only what changed; one malformed record never stops a sync."""

import copy

import pytest
from sqlalchemy import func, select

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.schema import raw_reject
from simulators.server import SimulatorServer
from tests.e2e.worlds import handmade_world, ms

pytestmark = pytest.mark.slow


def sync_all(engine, sources):
    return {s.name: sync_source(engine, s) for s in sources}


@pytest.fixture
def served(monkeypatch):
    with SimulatorServer(handmade_world()) as server:
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
    # change three records: two CRM deals (the CRM bumps last_modified_time) and one U8 order
    opps = server.world.data["crm"]["NewOpportunityObj"]
    for o in opps[:2]:
        o["amount"] += 1000
        o["last_modified_time"] = ms(0)
    server.world.data["u8"]["saleorderlist"][0]["sum"] = "150001.00"
    third = sync_all(engine, sources)
    assert {k: r.landed for k, r in third.items()} == {"crm": 2, "u8": 1, "finance": 0, "wecom": 0}
    assert third["crm"].seen == 2  # only the two changed deals were read


def test_malformed_record_is_counted_and_the_rest_lands(engine, served):
    server, sources = served
    orders = server.world.data["u8"]["saleorderlist"]
    orders[1]["date"] = "not-a-date"
    result = sync_source(engine, next(s for s in sources if s.name == "u8"))
    assert result.status == "succeeded"
    assert result.rejected == 1
    assert result.per_stream["saleorderlist"]["landed"] == len(orders) - 1
    with engine.connect() as conn:
        reason = conn.execute(select(raw_reject.c.reason)).scalar_one()
        assert conn.execute(select(func.count()).select_from(raw_reject)).scalar_one() == 1
    assert "not-a-date" in reason
