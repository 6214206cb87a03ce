"""World generator: one consistent company across CRM, U8, finance and WeCom, plus the truth
a perfect hub would find in it (see shared/spec/world-and-results.md).

    world, truth = generate(seed=7, customers=60)
    world_path, truth_path = write("out/", seed=7, customers=60, knobs=Knobs(difficulty="hard"))

``truth.json`` holds the spec's ``discrepancies`` (R1-R11, exact: an independent oracle over the
world's records; every rule is also planted with near-miss controls, checked at build) and ``same_customer`` (one group
per real company, singletons included), plus ``identity_cases``: the hard identity cases planted
(``kind``, the ``refs`` involved, how many ``companies``, the ``evidence`` the tricky records share
with their company's other records, a ``note``) so a matcher can be scored per kind. ``write``
streams the big lists to disk (bench/generate.py: 100k customers, ~1M orders).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .jsonout import Sinks, dumps, scratch_folder, write_world
from .knobs import DIFFICULTIES, Knobs
from .world import DEFAULT_NOW, Generated, GeneratorError, build

__all__ = ["DEFAULT_NOW", "DIFFICULTIES", "Generated", "GeneratorError", "Knobs", "build", "dumps",
           "generate", "write"]


def generate(seed: int, customers: int = 60, now: str = DEFAULT_NOW,
             knobs: Knobs | None = None) -> tuple[dict, dict]:
    """``(world, truth)`` for ``seed``: the same arguments give byte-identical JSON."""
    built = build(seed, customers, now, knobs)
    return built.world, built.truth


def write(out_dir: str | Path, seed: int, customers: int = 60, now: str = DEFAULT_NOW,
          knobs: Knobs | None = None) -> tuple[Path, Path]:
    """Write ``world.json`` and ``truth.json`` into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world_path, truth_path = out / "world.json", out / "truth.json"
    parts = scratch_folder(out)
    try:  # the big lists stream to disk as they are made; memory stays bounded
        built = build(seed, customers, now, knobs, Sinks(parts))
        write_world(world_path, built.world)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    truth_path.write_text(dumps(built.truth), encoding="utf-8")
    return world_path, truth_path
