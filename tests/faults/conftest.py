"""Fixtures of the fault suite: one generated world served for the whole session, and the result of
an uninterrupted ``hub sync`` + build of it (what every interrupted run must end up equal to)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine

from simulators.generator import generate
from tests.faults.harness import (
    assert_raw_equals_world,
    make_home,
    raw_current,
    served,
    taps,
    unified_snapshot,
    written,
)

QUICK_SOURCES = ["crm", "u8"]  # the two largest, incremental and full-table streams both
ALL_SOURCES = ["crm", "u8", "finance", "wecom"]


@dataclass
class Reference:
    """An uninterrupted sync of the served world: how long it took, what it landed and built."""

    world: dict
    server: object
    sources: list[str]
    duration: float
    raw: dict
    unified: dict
    tap_bytes: int = 0  # the most a tap of that sync wrote (tap kill points are shares of it)


@pytest.fixture(scope="session")
def world():
    """A small generated world (deterministic: seed 11)."""
    data, _truth = generate(11, customers=12)
    return data


@pytest.fixture(scope="session")
def server(world):
    """The simulators serving ``world`` for the whole session (faults are cleared after each test)."""
    with served(world) as sim:
        yield sim


def _reference(tmp_path_factory, world, server, sources) -> Reference:
    folder = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{folder / 'reference.db'}"
    home = make_home(folder, server, url, sources)
    begun = time.monotonic()
    proc = home.start("sync")
    wrote: dict[int, int] = {}  # tap pid -> bytes it had written when last seen
    while proc.poll() is None:
        for pid in taps(proc.pid):
            wrote[pid] = max(wrote.get(pid, 0), written(pid))
        time.sleep(0.002)
    out, err = proc.communicate(timeout=180)
    duration = time.monotonic() - begun
    assert proc.returncode == 0, out + err
    engine = create_engine(url)
    try:
        assert_raw_equals_world(engine, world, sources)
        return Reference(world, server, sources, duration, raw_current(engine),
                         unified_snapshot(engine, server.world.now), max(wrote.values(), default=0))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def reference(tmp_path_factory, world, server) -> Reference:
    """The uninterrupted run of the quick sources (crm, u8)."""
    return _reference(tmp_path_factory, world, server, QUICK_SOURCES)


@pytest.fixture(scope="session")
def reference_all(tmp_path_factory, world, server) -> Reference:
    """The uninterrupted run of all four sources (the long variants)."""
    return _reference(tmp_path_factory, world, server, ALL_SOURCES)
