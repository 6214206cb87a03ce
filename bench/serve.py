"""Serve a world's simulators for the benchmark, unthrottled, and describe them to the stages.

    with served(world_path, tmp) as sim:
        sim.sources_file, sim.env      # what bench/stages.py needs (credentials in env)
        sim.pids                       # the process answering calls (for py-spy)
        sim.change(edit)               # edit(world.data) in the serving process(es)
        sim.counts, sim.now            # records per object, the world's clock (ISO)

``compact=True`` (bench/run.py: worlds of 100k customers and more) serves the world from
``simulators.compact.load_compact``: read one record at a time, each large object kept as
compressed JSON blocks plus the few fields the simulators index, decoded per page - bounded
memory and a start-up of about a minute at 100k customers, where the whole world as Python
objects would need several times its ~3 GB file. The answers are the same (tests/simulators/
test_sim_compact.py); ``change`` then edits through ``CompactWorld.edit`` (top-level fields).

The simulators are served from a thread of this process (as tests do): this process only waits
for its stage children, so they have its interpreter to themselves; their CPU time is this
process's (bench/profile_sync.py reports it). Measured on the 2k world they are not the bound of
a hub sync (U8: about 0.3 ms of simulator CPU per call against about 1.2 ms in the tap), so a
multi-process server would not change the hub's figures; it would only add a way for the world
edits of the incremental pass to miss a process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Served:
    """What the stages need to reach the simulators."""

    sources_file: Path
    env: dict[str, str]
    pids: list[int]
    change: Callable[[Callable[[dict], object]], object]
    cpu: Callable[[], dict] = dict
    extra: dict = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    now: str = ""


def sources_for(urls: dict[str, str], tmp: Path) -> tuple[Path, dict[str, str]]:
    """The sources file for the bench (no client-side call budgets) and the env with secrets."""
    from hub_cli.demo import demo_sources

    data, secrets = demo_sources(urls)
    for source in data["sources"].values():
        source["config"]["rate_limits"] = []  # unthrottled: no client-side budget either
    path = tmp / "sources.json"
    path.write_text(json.dumps(data))
    env = os.environ | secrets | {"PYTHONPATH": str(HERE.parent)}
    # Every stage and tap is a fresh interpreter: without bytecode caches each one compiles its
    # imports from source again (about 1.3 s of CPU per process here), a cost no installed hub pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return path, env


@contextmanager
def served(world_path: Path, tmp: Path, latency: float = 0.0, compact: bool = False) -> Iterator[Served]:
    """The simulators over ``world_path`` for as long as the block runs.

    ``latency`` (seconds, default none): every call is answered that much later, without holding
    the server (a real vendor's round trip is 20-100 ms; on localhost it is well under 1 ms).
    ``compact``: the world kept compact (module docstring)."""
    from simulators.app import SYSTEMS
    from simulators.compact import load_compact
    from simulators.server import SimulatorServer
    from simulators.world import load_world

    world = load_compact(world_path) if compact else load_world(world_path)
    counts = {f"{s}.{k}": len(v) for s, objs in world.data.items() if s != "meta" for k, v in objs.items()}
    edit = world.edit if compact else (lambda change: change(world.data))
    with SimulatorServer(world) as server:
        if latency > 0:
            for system in SYSTEMS:
                server.inject_fault(system, count=10**12, kind="slow", delay=latency)
        sources_file, env = sources_for(server.urls, tmp)
        yield Served(sources_file, env, [os.getpid()], edit, counts=counts, now=world.now.isoformat())
