"""Stale-source protection: a failed sync or a mass disappearance holds dependent rules back."""

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from connectors import warm_taps
from hub_core.schema import discrepancy, raw_record, sync_run
from hub_core.schema_rules import source_health
from hub_core.schema_unified import receivable
from quality import staleness
from tests.quality.rules_kit import D, T, World, days_ago, run


def _sync(engine, source, status="succeeded", rows=(), stream="saleorderlist", error=None):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        rid = conn.execute(insert(sync_run).returning(sync_run.c.id), {
            "source": source, "started_at": now, "finished_at": now, "status": status, "records_seen": len(rows),
            "records_landed": len(rows), "records_rejected": 0, "error": error}).scalar_one()
        if rows:
            conn.execute(insert(raw_record), [{
                "source": source, "stream": stream, "record_key": key, "record_hash": "h", "data": "{}",
                "is_current": True, "sync_run_id": rid, "landed_at": now} for key in rows])


def _vanish(engine, source):
    """A full pass that found nothing: every record of the source is no longer current."""
    values = {"is_current": False}
    if raw_record.c.get("deleted_at") is not None:
        values = {"deleted_at": datetime.now(UTC)}
    with engine.begin() as conn:
        conn.execute(update(raw_record).where(raw_record.c.source == source).values(**values))


def _seed(engine):
    w = World()
    w.customer("A")
    w.receivable("R1", "A", 10, days_ago(3))  # R5 (u8)
    w.opp("o", "A", 5, modified=T - 3 * D)  # R7 (crm, wecom)
    w.load(engine)
    _sync(engine, "u8", rows=[f"SO{i}" for i in range(10)])
    _sync(engine, "crm", rows=["o"], stream="NewOpportunityObj")


def test_u8_returning_nothing_holds_u8_rules_back(engine, monkeypatch):
    alerts = []
    monkeypatch.setattr(staleness, "queue_stale_alert", lambda conn, *a: alerts.append(a))
    _seed(engine)
    first = run(engine, ["R5", "R7"])
    assert first.found == {"R5": 1, "R7": 1} and not first.held_back

    _sync(engine, "u8", rows=["SO-new"])  # an incremental sync landing little is not an outage
    assert not run(engine, ["R5", "R7"], as_of=T + D).held_back

    _vanish(engine, "u8")  # U8 returns nothing; the unified model lost its receivables
    with engine.begin() as conn:
        conn.execute(delete(receivable))
    third = run(engine, ["R5", "R7"], as_of=T + 2 * D)
    assert set(third.held_back) == {"R5"} and "u8 stale" in third.held_back["R5"]
    assert "saleorderlist 11 -> 0 rows" in third.stale_sources["u8"]
    assert third.found == {"R7": 1} and third.persisted.resolved == 0
    with engine.connect() as conn:
        r5 = conn.execute(select(discrepancy).where(discrepancy.c.rule == "R5")).one()
        health = conn.execute(select(source_health).where(source_health.c.source == "u8")).one()
    assert r5.status == "open" and r5.resolved_at is None  # no false resolution
    assert r5.last_seen.replace(tzinfo=UTC) == T + D  # untouched by the held-back run
    assert health.stale and health.since is not None and health.last_good_at is not None
    assert [a[0] for a in alerts] == ["u8"] and alerts[0][2] is not None  # one alert, with the data's age

    fourth = run(engine, ["R5"], as_of=T + 3 * D)  # still stale: no second alert
    assert "R5" in fourth.held_back and len(alerts) == 1
    stale = staleness.stale_sources(engine.url.render_as_string(hide_password=False))  # what hub run prints
    assert list(stale) == ["u8"] and "saleorderlist" in stale["u8"]


def test_failed_sync_marks_the_source_stale(engine, monkeypatch):
    monkeypatch.setattr(staleness, "queue_stale_alert", lambda *a: None)
    _seed(engine)
    _sync(engine, "finance", rows=["F1"], stream="credit_rating")
    assert not run(engine, ["R4", "R5", "R6"]).held_back
    _sync(engine, "finance", status="failed", error="finance API said 503")
    result = run(engine, ["R4", "R5", "R6"], as_of=T + D)
    assert set(result.held_back) == {"R4", "R6"}
    assert "last sync failed: finance API said 503" in result.stale_sources["finance"]
    _sync(engine, "finance", rows=["F2"], stream="credit_rating")  # the next sync succeeds
    assert not run(engine, ["R4", "R5", "R6"], as_of=T + 2 * D).held_back


def test_stale_alert_adapter_logs_when_alerts_are_absent(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_alerts(name, *args, **kwargs):
        if name.startswith("quality.alerts"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_alerts)
    with caplog.at_level(logging.WARNING, logger="quality.staleness"):
        staleness.queue_stale_alert(None, "u8", "gone", None)
    assert "no alerts module installed" in caplog.text


@pytest.mark.slow
def test_u8_returning_almost_nothing_after_a_good_run_makes_no_false_items(engine, monkeypatch):
    """Through the real pipeline (simulators, taps, landing, build): U8 answers with almost nothing
    on a full re-read; the open items stay exactly as they were and no false item appears."""
    from connectors.sources import parse_sources
    from connectors.sync import sync_source
    from hub_cli.demo import demo_sources
    from mappings.build import build_customer360
    from quality.reconcile import reconcile
    from simulators.server import SimulatorServer
    from tests.e2e.worlds import NOW, handmade_world

    monkeypatch.setattr(staleness, "queue_stale_alert", lambda *a: None)

    def open_items():
        with engine.connect() as conn:
            d = discrepancy.c
            return set(conn.execute(select(d.discrepancy_id).where(d.status == "open")).scalars())

    with warm_taps.session(), SimulatorServer(handmade_world()) as server:  # taps forked warm
        data, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        sources = {s.name: s for s in parse_sources(data)}
        for s in sources.values():
            assert sync_source(engine, s).status == "succeeded"
        build_customer360(engine, as_of=NOW)
        first = reconcile(engine, as_of=NOW)
        before = open_items()
        assert first.found["R1"] == 2 and not first.held_back
        for stream in server.world.data["u8"]:  # U8 answers with almost nothing: one record a stream
            server.world.data["u8"][stream] = server.world.data["u8"][stream][:1]
        sync_source(engine, sources["u8"], full_refresh=True)
        build_customer360(engine, as_of=NOW)
        second = reconcile(engine, as_of=NOW)
    assert open_items() == before
    assert second.persisted.new == 0 and second.persisted.reopened == 0 and second.persisted.resolved == 0
    # The full pass returned 1 of 3 orders: the landing withheld those deletions, U8 is stale.
    assert "1 of 3 live saleorderlist records" in second.stale_sources["u8"]
    assert second.stale_sources["u8"].startswith("deletions withheld: ")
    assert {"R1", "R2", "R3", "R4", "R5", "R6", "R8", "R9", "R11"} == set(second.held_back)


def test_stale_alert_goes_to_the_alerts_outbox(engine):
    from datetime import timedelta

    from hub_core.schema_alerts import alert_outbox

    with engine.begin() as conn:
        staleness.queue_stale_alert(conn, "u8", "current rows fell by more than 50%", timedelta(hours=5))
    with engine.connect() as conn:
        rows = conn.execute(select(alert_outbox.c.category, alert_outbox.c.subject)).all()
    assert [tuple(r) for r in rows] == [("source_stale", "source:u8")]
