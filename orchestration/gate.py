"""The publish gate outside Dagster (``hub build``): the same expectations as the Dagster asset
checks (quality/expectations.yaml), run on the unified tables and ``customer_360_candidate``;
the candidate is published only when no critical one failed. It also runs the per-source
freshness check the Dagster path runs on ``raw_<source>``: with ``freshness.severity: critical`` a
stale source blocks publishing here as it blocks the graph there; as a warning it is reported.

Under Dagster (``hub run``, ``hub demo``, schedules) the gate is the graph itself: the checks are
blocking asset checks and the ``customer_360`` asset - the publish step - runs only when they
passed (orchestration/assets.py). Both paths publish through mappings/publish.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GateResult:
    """What the gate decided: published or blocked (by which critical checks), and the warnings."""

    published: bool
    build_id: int | None
    rows: int | None = None
    blocked_by: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: dict[str, str] = field(default_factory=dict)  # check name -> one line saying what failed


def _line(outcome) -> str:
    meta = outcome.metadata
    detail = meta.get("error") or (f"{meta['unexpected_count']} unexpected" if "unexpected_count" in meta else
                                   f"observed {meta['observed_value']}" if "observed_value" in meta else "failed")
    return f"{outcome.name} ({meta.get('expectation', '?')} on {meta.get('table', '?')}: {detail})"


def configured_sources(engine) -> list[str]:
    """The enabled sources of the connectors file (as the Dagster graph has them); the sources the
    warehouse has synced when no connectors file can be read."""
    from sqlalchemy import select

    from connectors.sources import SourcesError, load_sources
    from hub_core.schema import sync_run
    from hub_core.settings import get_settings

    try:
        return [s.name for s in load_sources(get_settings().connectors_file) if s.enabled]
    except SourcesError:
        with engine.connect() as conn:
            return list(conn.execute(select(sync_run.c.source).distinct().order_by(sync_run.c.source)).scalars())


def _freshness_line(outcome, source: str) -> str:
    meta = outcome.metadata
    age = "never synced successfully" if meta["age_hours"] is None else f"last success {meta['age_hours']:g} h ago"
    return f"freshness:{source} (last successful sync of {source}: {age}, max {meta['max_age_hours']:g} h)"


def check_and_publish(warehouse_url: str, cfg=None, sources: list[str] | None = None) -> GateResult:
    """Run every expectation and the freshness check of each source (default: the configured
    ones), then publish the candidate or record the block."""
    from hub_core.warehouse import make_engine
    from mappings.publish import publish, record_blocked
    from quality.gx_checks import (
        load_quality_config,
        validate_freshness,
        validate_tables,
    )

    cfg = cfg or load_quality_config()
    outcomes = validate_tables(warehouse_url, cfg.all_expectations(), cfg.sample_size)
    failed = [o for o in outcomes if not o.passed]
    lines = {o.name: _line(o) for o in failed}
    names = [o.name for o in failed]
    engine = make_engine(warehouse_url)
    try:
        sources = configured_sources(engine) if sources is None else sources
        checked = validate_freshness(engine, sources, cfg.freshness) if sources else {}
        stale = {s: o for s, o in checked.items() if not o.passed}
        for source, outcome in stale.items():  # named per source, like the asset check on raw_<source>
            lines[f"freshness:{source}"] = _freshness_line(outcome, source)
        failed += stale.values()
        names += [f"freshness:{s}" for s in stale]
        blocked = [n for n, o in zip(names, failed) if o.severity == "critical"]
        warnings = [n for n, o in zip(names, failed) if o.severity != "critical"]
        if blocked:
            outcome = record_blocked(engine, blocked)
            return GateResult(False, outcome.build_id if outcome else None, None, sorted(blocked), warnings, lines)
        outcome = publish(engine)
        return GateResult(True, outcome.build_id, outcome.rows, [], warnings, lines)
    finally:
        engine.dispose()
