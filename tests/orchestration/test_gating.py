"""Critical expectation failures block publishing customer_360 and the report; warnings do not."""

import pytest
from sqlalchemy import update

from hub_core.schema_unified import receipt, sales_order
from orchestration.run import summarize
from tests.orchestration.world import (
    CHECKS_AND_PUBLISHING,
    PUBLISHED,
    UNIFIED,
    land_generated_world,
    materialize_published,
)

pytestmark = pytest.mark.slow


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _checks(result) -> dict:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


def test_a_clean_world_passes_every_critical_check_and_publishes(tmp_path, warehouse_url, engine):
    import dagster as dg

    now = land_generated_world(engine)
    # the whole chain after the syncs: the unified build, every check, publishing
    selection = dg.AssetSelection.assets(*UNIFIED) | CHECKS_AND_PUBLISHING
    result = materialize_published(warehouse_url, tmp_path / "out", selection, now)
    summary = summarize(result)
    assert result.success, summary.failures
    assert _materialized(result) >= {*UNIFIED, *PUBLISHED}
    checks = _checks(result)
    assert len(checks) >= 40
    assert summary.blocked == []
    critical = [k for k, e in checks.items() if e.severity == dg.AssetCheckSeverity.ERROR]
    assert critical and all(checks[k].passed for k in critical)
    assert (tmp_path / "out" / "report.md").exists()
    sales = summary.metadata["unified_sales"]
    assert sales["rows_sales_order"] > 0 and "quarantined" in sales
    assert summary.metadata["customer_360"]["customer_360_rows"] > 0
    assert "open_total" in summary.metadata["discrepancies"]


def test_a_negative_order_amount_blocks_publishing(tmp_path, engine):
    now = land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        bad = conn.execute(sales_order.select().limit(1)).first()
        conn.execute(update(sales_order).where(sales_order.c.ref == bad.ref).values(amount_cents=-500))
    result = materialize_published(url, tmp_path / "out", CHECKS_AND_PUBLISHING, now)
    assert not result.success
    assert not (_materialized(result) & set(PUBLISHED))  # nothing published
    assert not (tmp_path / "out" / "report.md").exists()
    check = _checks(result)["unified_sales:sales_order_amount_non_negative"]
    assert not check.passed and check.blocking
    meta = {k: v.value for k, v in check.metadata.items()}
    assert meta["expectation"] == "expect_column_values_to_be_between"
    assert meta["unexpected_count"] == 1 and meta["sample"] == ["-500"]
    assert _checks(result)["unified_sales:sales_order_ref_unique"].passed  # the rest still ran
    summary = summarize(result)
    assert not summary.success and summary.blocked == ["unified_sales:sales_order_amount_non_negative"]
    assert any(f.startswith("quality check unified_sales:sales_order_amount_non_negative failed "
                            "(expect_column_values_to_be_between on sales_order: 1 unexpected)") for f in summary.failures)


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_an_orphan_reference_blocks_and_a_warning_does_not(tmp_path, engine):
    now = land_generated_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(update(receipt).where(receipt.c.ref == conn.execute(receipt.select().limit(1)).first().ref)
                     .values(amount_cents=-1))  # a warning only
    result = materialize_published(url, tmp_path / "out", CHECKS_AND_PUBLISHING, now)
    checks = _checks(result)
    warned = checks["unified_finance:receipt_amount_non_negative"]
    assert not warned.passed and not warned.blocking
    assert _materialized(result) >= set(PUBLISHED) and result.success
    assert summarize(result).success

    with engine.begin() as conn:
        conn.execute(update(sales_order).where(
            sales_order.c.ref == conn.execute(sales_order.select().limit(1)).first().ref).values(customer_id="ghost"))
    result = materialize_published(url, tmp_path / "out2", CHECKS_AND_PUBLISHING, now)
    check = _checks(result)["unified_sales:sales_order_customer_resolvable"]
    assert not check.passed
    meta = {k: v.value for k, v in check.metadata.items()}
    assert meta["unexpected_count"] == 1 and meta["sample"][0]["customer_id"] == "ghost"
    assert "customer_360" not in _materialized(result)
