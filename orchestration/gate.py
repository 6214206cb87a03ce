"""The publish gate outside Dagster (``hub build``): the same expectations as the Dagster asset
checks (quality/expectations.yaml), run on the unified tables and ``customer_360_candidate``;
the candidate is published only when no critical one failed.

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


def check_and_publish(warehouse_url: str, cfg=None) -> GateResult:
    """Run every expectation, then publish the candidate or record the block."""
    from hub_core.warehouse import make_engine
    from mappings.publish import publish, record_blocked
    from quality.gx_checks import load_quality_config, validate_tables

    cfg = cfg or load_quality_config()
    outcomes = validate_tables(warehouse_url, cfg.all_expectations(), cfg.sample_size)
    failed = [o for o in outcomes if not o.passed]
    blocked = [o.name for o in failed if o.severity == "critical"]
    warnings = [o.name for o in failed if o.severity != "critical"]
    lines = {o.name: _line(o) for o in failed}
    engine = make_engine(warehouse_url)
    try:
        if blocked:
            outcome = record_blocked(engine, blocked)
            return GateResult(False, outcome.build_id if outcome else None, None, sorted(blocked), warnings, lines)
        outcome = publish(engine)
        return GateResult(True, outcome.build_id, outcome.rows, [], warnings, lines)
    finally:
        engine.dispose()
