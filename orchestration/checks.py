"""Dagster asset checks generated from quality/expectations.yaml (the one table of truth).

One check per declared expectation, attached to the asset that stands for its table; critical
ones are *blocking*: when one fails (severity ERROR), the assets downstream of the checked one
(customer_360, discrepancies, the report) are not materialized. Warnings (severity WARN) are
shown and never block. Every result carries the failed expectation, the unexpected count and a
small sample of keys as metadata. Freshness is checked per source on ``raw_<source>``.
"""

import dagster as dg

from orchestration.resources import WarehouseResource

_SEVERITY = {"critical": dg.AssetCheckSeverity.ERROR, "warning": dg.AssetCheckSeverity.WARN}


def _result(asset: str, outcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key=asset, check_name=outcome.name, passed=outcome.passed,
                               severity=_SEVERITY[outcome.severity], metadata=outcome.metadata)


def expectation_checks(asset: str, cfg) -> dg.AssetChecksDefinition | None:
    """The checks of one asset's tables, run together in one step (one GX context)."""
    specs = cfg.for_asset(asset)
    if not specs:
        return None
    check_specs = [dg.AssetCheckSpec(
        name=s.name, asset=asset, blocking=s.severity == "critical",
        description=f"{s.severity}: {s.type} on {s.table}") for s in specs]

    @dg.multi_asset_check(name=f"{asset}_expectations", specs=check_specs,
                          description=f"Great Expectations suite of {asset} (quality/expectations.yaml).")
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        from quality.gx_checks import validate_tables

        outcomes = validate_tables(warehouse.url, specs, cfg.sample_size)
        failed = [o.name for o in outcomes if not o.passed]
        if failed:
            context.log.warning(f"{asset}: {len(failed)} expectation(s) failed: {', '.join(failed)}")
        for outcome in outcomes:
            yield _result(asset, outcome)

    return _checks


def freshness_checks(source_names, cfg) -> dg.AssetChecksDefinition | None:
    """Per source: the last successful sync is not older than its maximum age."""
    if not source_names:
        return None
    specs = [dg.AssetCheckSpec(name="freshness", asset=f"raw_{s}", blocking=cfg.freshness.severity == "critical",
                               description=f"last successful sync of {s} within "
                                           f"{cfg.freshness.max_age_for(s):g} h") for s in source_names]

    @dg.multi_asset_check(name="source_freshness", specs=specs, can_subset=True,
                          description="Last successful sync per source against its maximum age.")
    def _freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        from quality.gx_checks import validate_freshness

        wanted = [s for s in source_names
                  if dg.AssetCheckKey(dg.AssetKey(f"raw_{s}"), "freshness") in context.selected_asset_check_keys]
        outcomes = validate_freshness(warehouse.get_engine(), wanted, cfg.freshness)
        for source in wanted:
            yield _result(f"raw_{source}", outcomes[source])

    return _freshness


def hub_checks(source_names, cfg=None) -> list[dg.AssetChecksDefinition]:
    """Every generated check: expectations per asset, freshness per source."""
    if cfg is None:
        from quality.gx_checks import load_quality_config

        cfg = load_quality_config()
    checks = [expectation_checks(asset, cfg) for asset in cfg.assets]
    checks.append(freshness_checks(list(source_names), cfg))
    return [c for c in checks if c is not None]
