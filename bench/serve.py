"""Serve a world's simulators for the benchmark, unthrottled, and describe them to the stages.

    with served(world_path, tmp) as sim:
        sim.sources_file, sim.env      # what bench/stages.py needs (credentials in env)
        sim.pids                       # the process answering calls (for py-spy)
        sim.change(edit)               # edit(world.data) in the serving process(es)

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
def served(world_path: Path, tmp: Path, latency: float = 0.0) -> Iterator[Served]:
    """The simulators over ``world_path`` for as long as the block runs.

    ``latency`` (seconds, default none): every call is answered that much later, without holding
    the server (a real vendor's round trip is 20-100 ms; on localhost it is well under 1 ms)."""
    from simulators.app import SYSTEMS
    from simulators.server import SimulatorServer
    from simulators.world import load_world

    world = load_world(world_path)
    with SimulatorServer(world) as server:
        if latency > 0:
            for system in SYSTEMS:
                server.inject_fault(system, count=10**12, kind="slow", delay=latency)
        sources_file, env = sources_for(server.urls, tmp)
        yield Served(sources_file, env, [os.getpid()], lambda edit: edit(server.world.data))
