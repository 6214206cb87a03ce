"""Scale-out: the same definitions on the multiprocess executor with PostgreSQL run/event/schedule
storage; the sources sync in parallel, in their own processes."""

import json
from itertools import combinations

import dagster as dg
import pytest

from hub_cli.demo import demo_sources
from simulators.server import SimulatorServer
from tests.e2e.worlds import NOW, handmade_world

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.mark.parametrize("warehouse_url", ["postgres"], indirect=True)
def test_the_job_runs_multiprocess_on_postgres_instance_storage(tmp_path, monkeypatch, warehouse_url, pg_database):
    from orchestration.definitions import multiprocess_job

    home = tmp_path / "dagster_home"
    home.mkdir()
    # dagster-postgres needs psycopg2 (its NOTIFY is not valid under psycopg 3, the SQLAlchemy 2.1 default)
    storage_url = pg_database.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    (home / "dagster.yaml").write_text(json.dumps({  # JSON is valid YAML
        "storage": {"postgres": {"postgres_url": storage_url}},
        "telemetry": {"enabled": False},
    }), encoding="utf-8")
    with SimulatorServer(handmade_world()) as server:
        sources, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps(sources), encoding="utf-8")
        # the worker processes rebuild the definitions from the environment
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("HUB_ENV", "local")
        monkeypatch.setenv("HUB_WAREHOUSE_URL", warehouse_url)
        monkeypatch.setenv("HUB_CONNECTORS_FILE", str(connectors))
        monkeypatch.setenv("HUB_OUTPUT_DIR", str(tmp_path / "out"))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            result = dg.execute_job(
                dg.reconstructable(multiprocess_job), instance=instance,
                # forkserver with the hub preloaded: each step forks from a warm process instead of
                # importing Dagster, the hub and Great Expectations again
                run_config={"execution": {"config": {"max_concurrent": 4, "start_method": {"forkserver": {
                    "preload_modules": ["orchestration.definitions", "great_expectations"]}}}},
                            "ops": {"discrepancies": {"config": {"as_of": NOW.isoformat()}}}})
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            stored = instance.get_run_by_id(result.run_id)
            assert stored is not None and stored.is_success
            entries = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw_crm", "raw_u8", "raw_finance", "raw_wecom", "customer_360", "consistency_report"} <= materialized
    assert (tmp_path / "out" / "report.md").exists()
    # each source synced in its own process, and at least two of them at the same time
    raw = {}
    for entry in entries:
        e = entry.dagster_event
        if e.step_key and e.step_key.startswith("raw_") and (e.is_step_start or e.is_step_success):
            raw.setdefault(e.step_key, {})["start" if e.is_step_start else "end"] = entry
    assert len(raw) == 4
    assert len({steps["start"].dagster_event.pid for steps in raw.values()}) == 4
    assert any(a["start"].timestamp < b["end"].timestamp and b["start"].timestamp < a["end"].timestamp
               for a, b in combinations(raw.values(), 2))
