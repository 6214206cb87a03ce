"""Fixtures of the conformance suite: one simulator world, plugins, one full read per connector."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.conformance.harness import Env


@pytest.fixture(scope="session")
def conformance_env(tmp_path_factory):
    """Simulators serving a small generated world; plugins in a session folder (a PyPI plugin
    is installed once per session, on first use)."""
    from simulators.generator import generate
    from simulators.server import SimulatorServer
    from tests.conformance.harness import install_once, session_plugins_dir

    previous = os.environ.get("HUB_PLUGINS_DIR")
    os.environ["HUB_PLUGINS_DIR"] = str(session_plugins_dir())

    world, _ = generate(5, customers=6)
    try:
        with SimulatorServer(world) as server:
            yield Env(urls=server.urls, tmp=tmp_path_factory.mktemp("conformance"), installer=install_once)
    finally:
        if previous is None:
            os.environ.pop("HUB_PLUGINS_DIR", None)
        else:
            os.environ["HUB_PLUGINS_DIR"] = previous


@dataclass
class FullRead:
    """A full read of one connector into its own SQLite warehouse."""

    db: str
    source: object
    engine: object
    result: object
    state: dict | None


@pytest.fixture(scope="session")
def full_reads(conformance_env, tmp_path_factory):
    """``read(case)``: the case's full read, done once per session."""
    from connectors.landing import load_state
    from connectors.sync import sync_source
    from hub_core.warehouse import open_warehouse
    from tests.conformance.harness import source_config

    done: dict[str, FullRead] = {}

    def read(case) -> FullRead:
        if case.id not in done:
            db = tmp_path_factory.mktemp("warehouse") / f"{case.id}.db"
            engine = open_warehouse(f"sqlite:///{db}")
            source = source_config(case, conformance_env)
            result = sync_source(engine, source)
            done[case.id] = FullRead(str(db), source, engine, result, load_state(engine, case.id))
        return done[case.id]

    yield read
    for entry in done.values():
        entry.engine.dispose()
