"""Serve a world's simulators for the benchmark, unthrottled, and describe them to the stages.

    with served(world_path, tmp) as sim:
        sim.sources_file, sim.env      # what bench/stages.py needs (credentials in env)
        sim.pids                       # the processes answering calls (for py-spy)
        sim.change(edit)               # edit(world.data) in the serving process(es)

``mode="thread"`` serves in a thread of this process (as tests do); ``mode="process"`` in a
child process of its own, so the simulators' work does not share this process's interpreter
lock with anything else and their time and memory are theirs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MODE = "thread"


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
def served(world_path: Path, tmp: Path, mode: str | None = None) -> Iterator[Served]:
    """The simulators over ``world_path`` for as long as the block runs."""
    from simulators.server import SimulatorServer
    from simulators.world import load_world

    mode = mode or DEFAULT_MODE
    if mode != "thread":
        raise ValueError(f"unknown serving mode {mode!r}")
    world = load_world(world_path)
    with SimulatorServer(world) as server:
        sources_file, env = sources_for(server.urls, tmp)
        yield Served(sources_file, env, [os.getpid()], lambda edit: edit(server.world.data))
