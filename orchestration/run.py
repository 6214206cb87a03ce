"""Run the hub's assets in-process with Dagster (what ``hub run`` and ``hub demo`` do)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from hub_core.settings import LANDED_STATUSES


@dataclass
class PipelineResult:
    """``success`` is False when any step failed, *any source's sync did not succeed* (a raw
    asset materializes even when its sync failed, so the rest runs on the last good data) or a
    critical quality check blocked publishing."""

    success: bool
    metadata: dict[str, dict]  # asset name -> metadata of its materialization
    failures: list[str]
    failed_sources: dict[str, str] | None = None  # source -> sync status (failed, refused, ...)
    checks: dict[str, dict] = field(default_factory=dict)  # "<asset>:<check>" -> passed, severity, metadata
    blocked: list[str] = field(default_factory=list)  # critical checks that failed (publishing stopped)
    stale_sources: dict[str, str] | None = None  # source -> why its data is stale (rules held back)


def run_pipeline(warehouse_url: str, connectors_file: str, out_dir: str, source_names: list[str],
                 as_of: datetime | None = None, log_level: str = "WARNING") -> PipelineResult:
    """Materialize raw sources -> unified model (+ checks) -> customer_360 -> discrepancies -> report."""
    from connectors import warm_taps

    # The raw assets' taps fork from one warm launcher (connectors/warm_taps.py), not a fresh
    # interpreter each (a single source gains nothing from it). Started first: it imports
    # singer_sdk while this process imports Dagster.
    with warm_taps.session() if len(source_names) > 1 else contextlib.nullcontext():
        import dagster as dg

        from orchestration.assets import hub_assets
        from orchestration.checks import hub_checks
        from orchestration.resources import hub_resources
        from quality.gx_checks import load_quality_config

        cfg = load_quality_config()
        result = dg.materialize(
            [*hub_assets(source_names, cfg.assets), *hub_checks(source_names, cfg)],
            resources=hub_resources(warehouse_url, connectors_file, str(out_dir), env="local"),
            run_config={
                "ops": {"discrepancies": {"config": {"as_of": as_of.isoformat() if as_of else None}}},
                "loggers": {"console": {"config": {"log_level": log_level}}},
            },
            raise_on_error=False,
        )
    summary = summarize(result)
    if summary.blocked:  # customer_360 was not published: say so where `hub report` will look
        _record_blocked(warehouse_url, summary.blocked)
    from quality.staleness import stale_sources

    # A stale source (failed, or landed far less than usual) held rules back: a scheduler must notice.
    summary.stale_sources = stale_sources(warehouse_url)
    summary.success = summary.success and not summary.stale_sources
    return summary


def _record_blocked(warehouse_url: str, blocked: list[str]) -> None:
    from hub_core.warehouse import make_engine
    from mappings.publish import record_blocked

    engine = make_engine(warehouse_url)
    try:
        record_blocked(engine, blocked)
    finally:
        engine.dispose()


def summarize(result) -> PipelineResult:
    """What a Dagster execution result means for the hub: metadata per asset, check results,
    step failures, failed sources and blocking check failures."""
    import dagster as dg

    metadata: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    checks: dict[str, dict] = {}
    blocked: list[str] = []
    for event in result.get_asset_check_evaluations():
        key = f"{event.asset_key.to_user_string()}:{event.check_name}"
        checks[key] = {"passed": event.passed, "severity": event.severity.value,
                       "metadata": {k: v.value for k, v in event.metadata.items()}}
        if not event.passed and event.severity == dg.AssetCheckSeverity.ERROR:
            blocked.append(key)
    failures = [
        f"{e.step_key}: {e.step_failure_data.error.message.strip() if e.step_failure_data.error else 'failed'}"
        for e in result.all_events if e.is_step_failure
    ]
    if blocked:
        # Dagster's own line only says "N blocking asset checks failed": name each one instead.
        failures = [f for f in failures if "blocking asset check" not in f]
        failures += [_blocked_line(key, checks[key]["metadata"]) for key in blocked]
    failed_sources = {
        asset[len("raw_"):]: str(meta.get("status"))
        for asset, meta in metadata.items()
        if asset.startswith("raw_") and meta.get("status") not in LANDED_STATUSES
    }
    return PipelineResult(result.success and not failed_sources and not blocked, metadata, failures, failed_sources,
                          checks, blocked)


def _blocked_line(key: str, meta: dict) -> str:
    what = f"{meta.get('expectation', 'expectation')} on {meta.get('table', '?')}"
    count = meta.get("unexpected_count")
    detail = meta.get("error") or (f"{count} unexpected" if count is not None else "failed")
    return f"quality check {key} failed ({what}: {detail}); customer_360 and the report were not published"
