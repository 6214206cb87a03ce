"""Run the hub's assets in-process with Dagster (what ``hub run`` and ``hub demo`` do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class PipelineResult:
    """``success`` is False when any step failed *or any source's sync did not succeed* (a raw
    asset materializes even when its sync failed, so the rest runs on the last good data)."""

    success: bool
    metadata: dict[str, dict]  # asset name -> metadata of its materialization
    failures: list[str]
    failed_sources: dict[str, str] | None = None  # source -> sync status (failed, refused, ...)
    stale_sources: dict[str, str] | None = None  # source -> why its data is stale (rules held back)


def run_pipeline(warehouse_url: str, connectors_file: str, out_dir: str, source_names: list[str],
                 as_of: datetime | None = None, log_level: str = "WARNING") -> PipelineResult:
    """Materialize raw sources -> customer_360 -> discrepancies -> consistency_report."""
    import dagster as dg

    from orchestration.assets import hub_assets
    from orchestration.resources import SourcesResource, WarehouseResource

    result = dg.materialize(
        hub_assets(source_names),
        resources={"warehouse": WarehouseResource(url=warehouse_url),
                   "sources": SourcesResource(path=connectors_file)},
        run_config={
            "ops": {
                "discrepancies": {"config": {"as_of": as_of.isoformat() if as_of else None}},
                "consistency_report": {"config": {"out_dir": str(out_dir)}},
            },
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
        raise_on_error=False,
    )
    metadata: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    failures = [
        f"{e.step_key}: {e.step_failure_data.error.message.strip() if e.step_failure_data.error else 'failed'}"
        for e in result.all_events if e.is_step_failure
    ]
    failed_sources = {
        asset[len("raw_"):]: str(meta.get("status"))
        for asset, meta in metadata.items()
        if asset.startswith("raw_") and meta.get("status") != "succeeded"
    }
    from quality.staleness import stale_sources

    stale = stale_sources(warehouse_url)
    return PipelineResult(result.success and not failed_sources and not stale, metadata, failures, failed_sources,
                          stale)
