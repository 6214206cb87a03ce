"""The hub's assets: raw streams per source -> customer-360 -> discrepancies -> report.

Each asset is a thin shell around a plain function of connectors/, mappings/ or quality/, so
the logic is tested without Dagster and Dagster only schedules, retries and records runs.
"""

from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.resources import SourcesResource, WarehouseResource

DEFAULT_SOURCES = ("crm", "u8", "finance", "wecom")


def raw_asset(source_name: str) -> dg.AssetsDefinition:
    """The landed raw streams of one configured source."""

    @dg.asset(name=f"raw_{source_name}", group_name="raw", compute_kind="singer",
              description=f"Records of source '{source_name}' landed by its Singer tap (incremental).")
    def _raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource):
        from connectors.sync import sync_source

        result = sync_source(warehouse.get_engine(), sources.get(source_name))
        if result.error:
            # Keep serving the last good data; the report marks this source failed.
            context.log.error(f"sync of {source_name} failed: {result.error}")
        return dg.MaterializeResult(metadata={
            "status": result.status, "records_seen": result.seen, "records_landed": result.landed,
            "records_rejected": result.rejected, "sync_run_id": result.run_id,
        })

    return _raw


def customer_360_asset(source_names) -> dg.AssetsDefinition:
    """The unified model, built from whatever the given sources landed."""

    @dg.asset(name="customer_360", group_name="unified", compute_kind="sql",
              deps=[dg.AssetKey(f"raw_{s}") for s in source_names],
              description="Unified customers, their crosswalk to every source record, typed deals and orders.")
    def _customer_360(warehouse: WarehouseResource) -> dg.MaterializeResult:
        from mappings.build import build_customer360

        stats = build_customer360(warehouse.get_engine())
        return dg.MaterializeResult(metadata=dict(vars(stats)))

    return _customer_360


class ReconcileConfig(dg.Config):
    as_of: str | None = None  # ISO time with offset; default: now


@dg.asset(group_name="quality", compute_kind="sql", deps=[dg.AssetKey("customer_360")],
          description="Open cross-system discrepancies (rules R1..), aged across runs.")
def discrepancies(config: ReconcileConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from quality.reconcile import reconcile

    as_of = datetime.fromisoformat(config.as_of) if config.as_of else None
    result = reconcile(warehouse.get_engine(), as_of=as_of)
    return dg.MaterializeResult(metadata={
        "as_of": result.as_of.isoformat(), "pairs": result.pairs, **{f"found_{k}": v for k, v in result.found.items()},
        "new": result.persisted.new, "persisting": result.persisted.persisting, "resolved": result.persisted.resolved,
    })


class ReportConfig(dg.Config):
    out_dir: str = "hub-report"


@dg.asset(group_name="reporting", compute_kind="jinja", deps=[discrepancies],
          description="discrepancies.json, customers.json, report.md/.html/.xlsx in the output folder.")
def consistency_report(config: ReportConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from quality.report import write_report

    files = write_report(warehouse.get_engine(), Path(config.out_dir))
    return dg.MaterializeResult(metadata={
        "out_dir": str(files.out_dir), "open_discrepancies": files.discrepancies, "customers": files.customers,
    })


def hub_assets(source_names=DEFAULT_SOURCES) -> list[dg.AssetsDefinition]:
    """Every asset of the hub for the given source names."""
    return [*(raw_asset(s) for s in source_names), customer_360_asset(source_names), discrepancies,
            consistency_report]
