"""Dagster entry point: ``dagster dev -m orchestration.definitions``.

Reads ``HUB_WAREHOUSE_URL`` and ``HUB_CONNECTORS_FILE`` (see README); the weekly schedule
produces the Monday-morning report in Asia/Shanghai.
"""

from __future__ import annotations

import dagster as dg

from hub_core.settings import get_settings
from orchestration.assets import hub_assets
from orchestration.resources import SourcesResource, WarehouseResource

customer360_job = dg.define_asset_job("customer360_job", selection=dg.AssetSelection.all())

weekly_report = dg.ScheduleDefinition(
    name="weekly_consistency_report",
    job=customer360_job,
    cron_schedule="0 8 * * 1",
    execution_timezone="Asia/Shanghai",
)


def build_definitions(warehouse_url: str, connectors_file: str) -> dg.Definitions:
    return dg.Definitions(
        assets=hub_assets(),
        jobs=[customer360_job],
        schedules=[weekly_report],
        resources={
            "warehouse": WarehouseResource(url=warehouse_url),
            "sources": SourcesResource(path=connectors_file),
        },
    )


_settings = get_settings()
defs = build_definitions(_settings.warehouse_url, str(_settings.connectors_file))
