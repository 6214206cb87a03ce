"""Dagster entry point: ``dagster dev -m orchestration.definitions``.

Reads ``HUB_WAREHOUSE_URL`` and ``HUB_CONNECTORS_FILE`` (see README); the weekly schedule
produces the Monday-morning report in Asia/Shanghai.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hub_core.settings import get_settings
from orchestration.assets import DEFAULT_SOURCES, hub_assets
from orchestration.resources import SourcesResource, WarehouseResource

customer360_job = dg.define_asset_job("customer360_job", selection=dg.AssetSelection.all())

weekly_report = dg.ScheduleDefinition(
    name="weekly_consistency_report",
    job=customer360_job,
    cron_schedule="0 8 * * 1",
    execution_timezone="Asia/Shanghai",
)


def _source_names(connectors_file: str) -> list[str]:
    """The sources named in the connectors file; the four standard ones when it is absent,
    so the asset graph can be browsed before any source is configured."""
    from connectors.sources import SourcesError, load_sources

    try:
        return [s.name for s in load_sources(Path(connectors_file)) if s.enabled]
    except SourcesError:
        return list(DEFAULT_SOURCES)


def build_definitions(warehouse_url: str, connectors_file: str) -> dg.Definitions:
    return dg.Definitions(
        assets=hub_assets(_source_names(connectors_file)),
        jobs=[customer360_job],
        schedules=[weekly_report],
        resources={
            "warehouse": WarehouseResource(url=warehouse_url),
            "sources": SourcesResource(path=connectors_file),
        },
    )


_settings = get_settings()
defs = build_definitions(_settings.warehouse_url, str(_settings.connectors_file))
