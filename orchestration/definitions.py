"""Dagster entry point: ``dagster dev -m orchestration.definitions``.

Resources follow ``HUB_ENV`` (local | production, see orchestration/resources.py) and
``HUB_WAREHOUSE_URL`` / ``HUB_CONNECTORS_FILE`` / ``HUB_OUTPUT_DIR``. The same definitions run
in-process (``hub run``), under ``dagster dev``, or scaled out with the multiprocess executor and
PostgreSQL instance storage (README "Scaling out").
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.assets import DEFAULT_SOURCES, hub_assets
from orchestration.checks import hub_checks
from orchestration.resources import hub_resources
from orchestration.schedules import (
    customer360_job,
    hub_schedules,
    red_alert_sensor,
    sync_job,
)


def _source_names(connectors_file: str) -> list[str]:
    """The sources named in the connectors file; the four standard ones when it is absent,
    so the asset graph can be browsed before any source is configured."""
    from connectors.sources import SourcesError, load_sources

    try:
        return [s.name for s in load_sources(Path(connectors_file)) if s.enabled]
    except SourcesError:
        return list(DEFAULT_SOURCES)


def build_definitions(warehouse_url: str | None = None, connectors_file: str | None = None,
                      out_dir: str | None = None, executor: dg.ExecutorDefinition | None = None) -> dg.Definitions:
    """The hub's definitions for one deployment (explicit arguments win over the environment)."""
    from quality.gx_checks import load_quality_config

    resources = hub_resources(warehouse_url, connectors_file, out_dir)
    names = _source_names(resources["sources"].path)
    cfg = load_quality_config()
    return dg.Definitions(
        assets=hub_assets(names, cfg.assets),
        asset_checks=hub_checks(names, cfg),
        jobs=[customer360_job, sync_job],
        schedules=hub_schedules(),
        sensors=[red_alert_sensor()],
        resources=resources,
        executor=executor,
    )


def multiprocess_job() -> dg.JobDefinition:
    """``customer360_job`` on the multiprocess executor (sources sync in parallel), built from
    the environment; a module-level function so ``reconstructable`` can rebuild it in each
    worker process."""
    return build_definitions(executor=dg.multiprocess_executor).resolve_job_def("customer360_job")


defs = build_definitions()
