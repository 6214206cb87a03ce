"""The shipped finance manifest, end to end through `hub`: check, discover, sync, incremental sync."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub_core.schema import raw_record, sync_run
from simulators import credentials
from simulators.server import SimulatorServer

pytestmark = pytest.mark.slow  # each step starts airbyte-cdk (seconds)
runner = CliRunner()


def rating(code: str, rated_at: str, grade: str = "AA") -> dict:
    return {"customer_code": code, "uscc": "91110108551385082Q", "customer_name": f"客户{code}", "rating": grade,
            "previous_rating": "A", "credit_limit": 500000, "credit_days": 60, "rated_at": rated_at}


def test_manifest_source_checks_discovers_and_syncs_incrementally(tmp_path, monkeypatch):
    from hub_cli.main import app
    from hub_core.warehouse import open_warehouse

    world = {"finance": {"credit_rating": [rating(f"C{i:03d}", f"2026-10-{i:02d}") for i in range(1, 12)]}}
    monkeypatch.setenv("FIN_SECRET", credentials.FINANCE.client_secret)
    warehouse = f"sqlite:///{tmp_path / 'w.db'}"
    with SimulatorServer(world) as server:
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps({"sources": {"ratings": {"manifest": "finance_credit_ratings", "config": {
            "base_url": server.urls["finance"], "client_id": credentials.FINANCE.client_id,
            "client_secret": "${FIN_SECRET}", "page_size": 4}}}}), encoding="utf-8")
        args = ["--connectors", str(connectors)]
        checked = runner.invoke(app, ["connectors", "check", *args])
        assert checked.exit_code == 0 and "Airbyte check OK" in checked.output, checked.output
        found = runner.invoke(app, ["connectors", "discover", *args])
        assert found.exit_code == 0 and "credit_rating" in found.output and "customer_code" in found.output
        first = runner.invoke(app, ["sync", *args, "--warehouse", warehouse])
        assert first.exit_code == 0, first.output
        # One new rating and one re-rating later: the next sync asks from the bookmark on.
        server.set_world({"finance": {"credit_rating": [*world["finance"]["credit_rating"][:-1],
                                                        rating("C011", "2026-11-02", "C"), rating("C012", "2026-11-03")]}})
        second = runner.invoke(app, ["sync", *args, "--warehouse", warehouse])
        assert second.exit_code == 0, second.output
    engine = open_warehouse(warehouse)
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.record_key, raw_record.c.data, raw_record.c.is_current,
                                   raw_record.c.sync_run_id).where(raw_record.c.source == "ratings")).all()
        seen = dict(conn.execute(select(sync_run.c.id, sync_run.c.records_seen).where(sync_run.c.source == "ratings")).all())
    engine.dispose()
    current = {r.record_key: json.loads(r.data) for r in rows if r.is_current}
    assert len(current) == 12 and current["C011"]["rating"] == "C"
    second_run = {r.record_key for r in rows if r.sync_run_id == 2}
    assert second_run == {"C011", "C012"}  # only what changed landed again
    assert seen == {1: 11, 2: 2}  # the second read asked updated_since=<bookmark>: only the two later ratings
