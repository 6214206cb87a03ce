import dagster as dg

from orchestration.definitions import build_definitions


def test_definitions_follow_the_connectors_file(tmp_path):
    path = tmp_path / "connectors.yaml"
    path.write_text("sources:\n  crm:\n    connector: fxiaoke\n  erp:\n    connector: u8\n")
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(path))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"raw_crm", "raw_erp", "customer_360", "discrepancies", "consistency_report"}
    job = defs.resolve_job_def("customer360_job")
    assert {n.name for n in job.nodes_in_topological_order} >= {"raw_crm", "customer_360", "consistency_report"}
    schedule = defs.resolve_schedule_def("weekly_consistency_report")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 8 * * 1", "Asia/Shanghai")


def test_definitions_without_a_connectors_file_show_the_standard_sources(tmp_path):
    defs = build_definitions(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "missing.yaml"))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_crm", "raw_u8", "raw_finance", "raw_wecom"} <= keys


def test_module_loads_for_the_dagster_cli():
    import subprocess
    import sys

    code = "import orchestration.definitions as d, dagster as dg; assert isinstance(d.defs, dg.Definitions)"
    subprocess.run([sys.executable, "-c", code], check=True)
