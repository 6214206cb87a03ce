"""A small generated world landed straight into a warehouse (the connectors' loader, no simulators)
and the hub's assets/checks without the raw ones, for gating tests."""

from datetime import datetime

import dagster as dg

from orchestration.assets import hub_assets
from orchestration.checks import hub_checks
from orchestration.resources import hub_resources
from quality.gx_checks import load_quality_config

SOURCES = ("crm", "u8", "finance", "wecom")


def land_generated_world(engine, customers: int = 12, seed: int = 7) -> datetime:
    """Land a generated world and build the unified model once; returns the world's now."""
    from mappings.build import build_customer360
    from simulators.generator import generate
    from tests.mappings.test_hostile_world import land_world

    world, _ = generate(seed, customers=customers)
    land_world(engine, world)
    now = datetime.fromisoformat(world["meta"]["now"])
    build_customer360(engine, as_of=now)
    return now


def materialize_published(url: str, out_dir, selection: dg.AssetSelection, as_of: datetime):
    """Run the selected assets and checks (raw ones are never selected: the world is landed)."""
    cfg = load_quality_config()
    return dg.materialize(
        [*hub_assets(SOURCES, cfg.assets), *hub_checks(SOURCES, cfg)],
        selection=selection,
        resources=hub_resources(url, "missing-connectors.yaml", str(out_dir), env="local"),
        run_config={"ops": {"discrepancies": {"config": {"as_of": as_of.isoformat()}}},
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        raise_on_error=False,
    )


UNIFIED = ("unified_customers", "unified_sales", "unified_finance", "unified_interactions", "customer_360_candidate")
PUBLISHED = ("customer_360", "discrepancies", "consistency_report")

# Everything but the raw syncs: the checks of the unified groups and what they gate.
CHECKS_AND_PUBLISHING = (dg.AssetSelection.checks_for_assets(*UNIFIED, "customer_360")
                         | dg.AssetSelection.assets(*PUBLISHED))
