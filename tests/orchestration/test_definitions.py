import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.resources import (
    OutputResource,
    ResourceConfigError,
    WarehouseResource,
    hub_resources,
)
from quality.gx_checks import load_quality_config


def test_definitions_follow_the_connectors_file(tmp_path):
    path = tmp_path / "connectors.yaml"
    path.write_text("sources:\n  crm:\n    connector: fxiaoke\n  erp:\n    connector: u8\n")
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(path))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"raw_crm", "raw_erp", "unified_customers", "unified_sales", "unified_finance",
                    "unified_interactions", "customer_360_candidate", "customer_360", "discrepancies",
                    "consistency_report"}
    job = defs.resolve_job_def("customer360_job")
    assert {n.name for n in job.nodes_in_topological_order} >= {
        "raw_crm", "unified_model", "unified_sales_expectations", "customer_360", "consistency_report"}
    sync = defs.resolve_job_def("sync_job")
    assert {n.name for n in sync.nodes_in_topological_order} == {"raw_crm", "raw_erp", "source_freshness"}


def test_checks_are_generated_from_the_expectations_file(tmp_path):
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "missing.yaml"))
    specs = {(s.asset_key.to_user_string(), s.name): s
             for checks in defs.asset_checks for s in checks.check_specs}
    cfg = load_quality_config()
    declared = {(asset, e.name): e for asset in cfg.assets for e in cfg.for_asset(asset)}
    expected = set(declared) | {(f"raw_{s}", "freshness") for s in ("crm", "u8", "finance", "wecom")}
    assert set(specs) == expected
    for key, e in declared.items():
        assert specs[key].blocking == (e.severity == "critical"), key
    assert specs[("unified_sales", "sales_order_amount_non_negative")].blocking
    assert not specs[("customer_360_candidate", "completeness_index_healthy")].blocking
    assert specs[("customer_360_candidate", "customer_360_id_unique")].blocking  # checked before publishing
    assert not specs[("raw_crm", "freshness")].blocking


def test_schedules_and_sensor_run_by_default_at_the_right_times(tmp_path):
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "missing.yaml"))
    weekly = defs.resolve_schedule_def("weekly_consistency_report")
    assert (weekly.cron_schedule, weekly.execution_timezone, weekly.job_name) == (
        "0 8 * * 1", "Asia/Shanghai", "customer360_job")
    assert weekly.default_status == dg.DefaultScheduleStatus.RUNNING
    sync = defs.resolve_schedule_def("incremental_sync")
    assert (sync.cron_schedule, sync.job_name, sync.default_status) == (
        "0 * * * *", "sync_job", dg.DefaultScheduleStatus.RUNNING)
    sensor = defs.resolve_sensor_def("red_discrepancy_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 300


def test_definitions_without_a_connectors_file_show_the_standard_sources(tmp_path):
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "missing.yaml"))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_crm", "raw_u8", "raw_finance", "raw_wecom"} <= keys


def test_resources_follow_hub_env(tmp_path, monkeypatch):
    monkeypatch.delenv("HUB_ENV", raising=False)
    monkeypatch.delenv("HUB_OUTPUT_DIR", raising=False)
    monkeypatch.setenv("HUB_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    local = hub_resources()
    assert isinstance(local["warehouse"], WarehouseResource) and local["warehouse"].url.startswith("sqlite")
    assert isinstance(local["output"], OutputResource) and local["output"].path == "hub-report"

    monkeypatch.setenv("HUB_ENV", "production")
    with pytest.raises(ResourceConfigError, match="postgresql"):
        hub_resources()
    monkeypatch.setenv("HUB_WAREHOUSE_URL", "postgresql+psycopg://hub:s3cret@db/hub")
    with pytest.raises(ResourceConfigError, match="HUB_OUTPUT_DIR") as err:
        hub_resources()
    assert "s3cret" not in str(err.value)
    monkeypatch.setenv("HUB_OUTPUT_DIR", str(tmp_path / "published"))
    prod = hub_resources()
    assert prod["warehouse"].url.startswith("postgresql") and prod["output"].path == str(tmp_path / "published")
    monkeypatch.setenv("HUB_ENV", "staging")
    with pytest.raises(ResourceConfigError, match="HUB_ENV"):
        hub_resources()


def test_module_loads_for_the_dagster_cli():
    import subprocess
    import sys

    code = "import orchestration.definitions as d, dagster as dg; assert isinstance(d.defs, dg.Definitions)"
    subprocess.run([sys.executable, "-c", code], check=True)
