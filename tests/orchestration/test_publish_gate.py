"""The publish gate: a build proposes ``customer_360_candidate``; ``customer_360`` changes only when
no critical check failed (Dagster's blocking checks, or ``hub build``). A blocked publish leaves
customer_360 exactly as it was, shows as a failed check in Dagster, and no report is written from
that build; a warning does not block."""

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from hub_core.schema_publish import customer_360_candidate, publish_run
from hub_core.schema_unified import customer_360, sales_order
from mappings.publish import published_build, unpublished
from orchestration.run import summarize
from tests.orchestration.world import (
    CHECKS_AND_PUBLISHING,
    PUBLISHED,
    land_generated_world,
    materialize_published,
)

pytestmark = pytest.mark.slow


def _rows(engine, table) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table)))


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _checks(result) -> dict:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


def test_a_critical_failure_leaves_customer_360_exactly_as_before(tmp_path, engine):
    now = land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    assert _rows(engine, customer_360) == []  # a build alone publishes nothing
    first = materialize_published(url, tmp_path / "a", CHECKS_AND_PUBLISHING, now)
    assert first.success, summarize(first).failures
    published = _rows(engine, customer_360)
    assert published == _rows(engine, customer_360_candidate) and published
    with engine.connect() as conn:
        good_build = published_build(conn)
        assert good_build is not None and unpublished(conn) is None

    # the next candidate differs (every health score 0) and one of its rows names no customer
    with engine.begin() as conn:
        conn.execute(update(customer_360_candidate).values(health_score=0))
        ghost = conn.execute(select(customer_360_candidate.c.customer_id).limit(1)).scalar_one()
        conn.execute(update(customer_360_candidate).where(customer_360_candidate.c.customer_id == ghost)
                     .values(customer_id="ghost"))
    blocked = materialize_published(url, tmp_path / "b", CHECKS_AND_PUBLISHING, now)
    check = _checks(blocked)["customer_360_candidate:customer_360_customer_resolvable"]
    assert not check.passed and check.blocking  # visible in Dagster as a failed blocking check
    assert not (_materialized(blocked) & set(PUBLISHED)) and not blocked.success
    assert _rows(engine, customer_360) == published  # exactly as before
    assert not (tmp_path / "b" / "report.md").exists()

    # a warning does not block: the (still odd, but resolvable) candidate is published
    with engine.begin() as conn:
        conn.execute(update(customer_360_candidate).where(customer_360_candidate.c.customer_id == "ghost")
                     .values(customer_id=ghost))
        conn.execute(update(customer_360_candidate).values(revenue_12m_cents=-1))  # a warning only
    warned = materialize_published(url, tmp_path / "c", CHECKS_AND_PUBLISHING, now)
    check = _checks(warned)["customer_360_candidate:customer_360_revenue_non_negative"]
    assert not check.passed and not check.blocking
    assert warned.success and _materialized(warned) >= set(PUBLISHED)
    assert {r.health_score for r in _rows_named(engine)} == {0}
    assert summarize(warned).metadata["customer_360"]["published_build_id"] == good_build


def _rows_named(engine):
    with engine.connect() as conn:
        return conn.execute(select(customer_360)).all()


def test_a_blocked_unified_table_stops_publishing_and_hub_run_records_it(tmp_path, engine):
    """A critical failure on a unified table (not the candidate) blocks too; run_pipeline's
    record of the block is what `hub report` reads."""
    from orchestration.run import _record_blocked

    now = land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        bad = conn.execute(select(sales_order.c.ref).limit(1)).scalar_one()
        conn.execute(update(sales_order).where(sales_order.c.ref == bad).values(amount_cents=-500))
    result = materialize_published(url, tmp_path / "out", CHECKS_AND_PUBLISHING, now)
    summary = summarize(result)
    assert summary.blocked == ["unified_sales:sales_order_amount_non_negative"]
    assert _rows(engine, customer_360) == []
    _record_blocked(url, summary.blocked)
    with engine.connect() as conn:
        why = unpublished(conn)
        row = conn.execute(select(publish_run)).one()
    assert row.status == "blocked" and "sales_order_amount_non_negative" in row.blocked_by
    assert why.startswith(f"build {row.build_id} was not published: critical quality checks failed "
                          "(unified_sales:sales_order_amount_non_negative)")


FILE = """
assets: {{unified_customers: [customer], customer_360_candidate: [customer_360_candidate, data_completeness]}}
expectations:
  - {{name: at_most_one_customer, table: customer_360_candidate, type: expect_table_row_count_to_be_between,
     kwargs: {{max_value: 1}}, severity: {severity}}}
"""


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_hub_build_publishes_only_through_the_gate_and_hub_report_waits(tmp_path, engine, monkeypatch):
    from hub_cli.main import app

    runner = CliRunner()
    land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    path = tmp_path / "expectations.yaml"
    monkeypatch.setenv("HUB_EXPECTATIONS_FILE", str(path))
    path.write_text(FILE.format(severity="critical"))
    built = runner.invoke(app, ["build", "--warehouse", url])
    out = " ".join(built.output.split())
    assert built.exit_code == 1, built.output
    assert "quality check failed: at_most_one_customer (expect_table_row_count_to_be_between" in out
    assert "expect_table_row_count_to_be_between on customer_360_candidate: observed 12)" in out
    assert "not published: customer_360 is unchanged (it shows build none)" in out
    assert _rows(engine, customer_360) == []
    report = runner.invoke(app, ["report", "--out", str(tmp_path / "r1"), "--warehouse", url])
    assert report.exit_code == 1 and "was not published" in " ".join(report.output.split())
    assert not (tmp_path / "r1").exists()

    path.write_text(FILE.format(severity="warning"))
    built = runner.invoke(app, ["build", "--warehouse", url])
    assert built.exit_code == 0, built.output
    assert "quality warning: at_most_one_customer" in " ".join(built.output.split())
    assert _rows(engine, customer_360) == _rows(engine, customer_360_candidate) != []
    report = runner.invoke(app, ["report", "--out", str(tmp_path / "r2"), "--warehouse", url])
    assert report.exit_code == 0, report.output


FRESHNESS_FILE = """
assets: {{unified_customers: [customer], customer_360_candidate: [customer_360_candidate, data_completeness]}}
freshness: {{severity: {severity}, max_age_hours: 26, sources: {{crm: 2}}}}
expectations: []
"""


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_hub_build_gate_runs_the_freshness_checks_the_dagster_path_runs(tmp_path, engine):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from hub_core.schema import sync_run
    from orchestration.gate import check_and_publish
    from quality.gx_checks import load_quality_config

    land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(sync_run), [  # u8 fresh; crm 5 h old (its max is 2 h); wecom never succeeded
            {"source": source, "started_at": now - age, "finished_at": now - age, "status": status}
            for source, age, status in (("u8", timedelta(hours=1), "succeeded"), ("crm", timedelta(hours=5), "partial"),
                                        ("wecom", timedelta(hours=1), "failed"))])
    path = tmp_path / "expectations.yaml"
    path.write_text(FRESHNESS_FILE.format(severity="critical"))
    gate = check_and_publish(url, load_quality_config(path), sources=["crm", "u8", "wecom"])
    assert not gate.published and gate.blocked_by == ["freshness:crm", "freshness:wecom"]
    line = gate.lines["freshness:crm"]
    assert line.startswith("freshness:crm (last successful sync of crm: last success 5") and line.endswith(", max 2 h)")
    assert "never synced successfully" in gate.lines["freshness:wecom"]
    assert _rows(engine, customer_360) == [] and published_build(engine.connect()) is None

    path.write_text(FRESHNESS_FILE.format(severity="warning"))
    gate = check_and_publish(url, load_quality_config(path), sources=["crm", "u8", "wecom"])
    assert gate.published and gate.blocked_by == []
    assert {"freshness:crm", "freshness:wecom"} <= set(gate.warnings) and "freshness:u8" not in gate.warnings
    assert _rows(engine, customer_360) == _rows(engine, customer_360_candidate) != []
