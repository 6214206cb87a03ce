"""A sync streams: the peak memory of the ``hub sync`` process (and of any tap it waited for —
``wait4`` reports the larger) barely grows when the world is five times larger. The bound is
deliberately generous (< 1.5x for 5x the records); figures for real sizes: bench/pipeline.py."""

from __future__ import annotations

import os
import subprocess

import pytest

from simulators.generator import generate
from tests.faults.harness import HUB, make_home, served

pytestmark = [pytest.mark.slow, pytest.mark.faults_long]
SOURCES = ["crm", "u8"]


def peak_rss_mb(tmp_path, customers: int) -> tuple[float, int]:
    """(peak RSS in MB of a ``hub sync`` of a generated world, records landed)."""
    world, _ = generate(11, customers=customers)
    with served(world) as server:
        home = make_home(tmp_path, server, f"sqlite:///{tmp_path / 'w.db'}", SOURCES)
        proc = subprocess.Popen([HUB, "sync"], env=home.env, cwd=home.folder, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    records = sum(len(v) for s in SOURCES for v in world[s].values() if isinstance(v, list))
    return usage.ru_maxrss / 1024, records


def test_peak_memory_grows_far_slower_than_the_data(tmp_path):
    small_mb, small_n = peak_rss_mb(tmp_path / "small", 12)
    large_mb, large_n = peak_rss_mb(tmp_path / "large", 80)
    assert large_n >= 4.5 * small_n
    print(f"peak RSS {small_mb:.0f} MB for {small_n} records, {large_mb:.0f} MB for {large_n}")
    assert large_mb < 1.5 * small_mb, (small_mb, large_mb)
