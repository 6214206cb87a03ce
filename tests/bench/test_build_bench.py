"""bench/build.py's own parts: the direct landing lands what the taps would (an unchanged re-land
lands nothing), and its steps report what the build did."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import build as bench_build


def test_land_then_build_steps(tmp_path):
    from simulators.generator import generate

    world, _ = generate(5, customers=12)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    landed = bench_build.land(url, world, 1)
    assert landed["crm"] == sum(len(v) for v in world["crm"].values())
    assert bench_build.land(url, world, 2) == {"crm": 0, "u8": 0, "finance": 0, "wecom": 0}
    as_of = world["meta"]["now"]
    resolved = bench_build.step_resolve(url, as_of, True)
    assert resolved["records"] > 0 and resolved["customers"] > 0
    from sqlalchemy import create_engine, func, select

    from hub_core.schema import customer_xref

    with create_engine(url).connect() as conn:  # the resolution step was rolled back
        assert conn.execute(select(func.count()).select_from(customer_xref)).scalar_one() == 0
    full = bench_build.step_build(url, as_of, False)
    assert full["mode"] == "full" and full["customers"] == resolved["customers"]
    assert bench_build.step_build(url, as_of, False)["mode"] == "unchanged"
    before = bench_build.step_snapshot(url, as_of, False)
    assert bench_build.step_build(url, as_of, True)["mode"] == "full"
    assert bench_build.step_snapshot(url, as_of, False) == before
