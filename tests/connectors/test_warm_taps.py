"""Built-in taps forked from a warm launcher (connectors/warm_taps.py) behave as exec'd taps:
the same Singer output, the same errors, killed the same way, and nothing left running."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

import pytest

from connectors import warm_taps
from connectors.singer_runner import TapError, TapProcess
from simulators import credentials
from simulators.server import SimulatorServer

FIN = credentials.FINANCE


def _world() -> dict:
    ratings = [{"customer_code": f"C{i:03d}", "uscc": "91110108551385082Q", "customer_name": f"客户{i}",
                "rating": "AA", "previous_rating": "A", "credit_limit": 500000, "credit_days": 60,
                "rated_at": f"2026-10-{1 + i % 28:02d}"} for i in range(60)]
    return {"finance": {"credit_rating": ratings}}


@pytest.fixture(scope="module")
def finance_url():
    with SimulatorServer(_world()) as server:
        yield server.urls["finance"]


def _config(url: str, **extra) -> dict:
    return {"base_url": url, "client_id": FIN.client_id, "client_secret": FIN.client_secret, "page_size": 7,
            "rate_limits": [], **extra}


def _messages(lines: list[bytes]) -> list[dict]:
    """The Singer messages, without the moment they were extracted."""
    out = []
    for line in lines:
        message = json.loads(line)
        message.pop("time_extracted", None)
        out.append(message)
    return out


def _run(config: dict, state: dict | None = None) -> list[bytes]:
    lines: list[bytes] = []
    TapProcess(["tap-finance"], config).run(None, state, lambda it: lines.extend(it))
    return lines


def _children() -> list[int]:
    kids = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        kids += [int(p) for p in (task / "children").read_text().split()]
    return kids


def test_a_forked_tap_emits_what_the_exec_d_tap_emits(finance_url):
    exec_d = _run(_config(finance_url))
    with warm_taps.session():
        first = _run(_config(finance_url))
        state = json.loads(first[-1])["value"]
        again = _run(_config(finance_url), state)  # the second fork of the kind: its module is warm
        launcher = warm_taps.launcher()
        assert launcher is not None and launcher.spawned == 2
    assert _messages(first) == _messages(exec_d)
    assert sum(m["type"] == "RECORD" for m in _messages(first)) == 60
    assert _messages(again) == _messages(_run(_config(finance_url), state))  # the state reached the fork


def test_outside_a_session_or_for_foreign_commands_nothing_is_forked(tmp_path):
    assert warm_taps.launcher() is None
    assert warm_taps.entry_point(str(tmp_path / "tap-finance")) is None  # not the venv's script
    assert warm_taps.entry_point(str(Path(os.sys.executable).parent / "hub")) is None  # not a tap
    assert warm_taps.entry_point(str(Path(os.sys.executable).parent / "tap-finance")).startswith("connectors.")


def test_a_forked_tap_fails_with_the_exec_d_tap_s_error(finance_url):
    bad = _config(finance_url, client_secret="wrong-secret-value")
    with pytest.raises(TapError) as exec_d:
        _run(bad)
    with warm_taps.session(), pytest.raises(TapError) as forked:
        _run(bad)
    assert str(forked.value) == str(exec_d.value)
    assert "wrong-secret-value" not in str(forked.value) + (forked.value.detail or "")


def test_a_consumer_failure_kills_the_tap_and_the_session_end_leaves_no_process(finance_url):
    def consume(lines):
        next(lines)
        raise RuntimeError("the loader failed")

    before = set(_children())
    with warm_taps.session():
        launcher = warm_taps.launcher()
        with pytest.raises(RuntimeError, match="the loader failed"):
            TapProcess(["tap-finance"], _config(finance_url)).run(None, None, consume)
        assert launcher.spawned == 1
        assert _run(_config(finance_url))  # the launcher still serves the next tap
    assert launcher._proc.poll() is not None
    assert set(_children()) - before == set()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_the_launcher_and_its_taps_count_to_the_session_s_process_once_it_ends(finance_url):
    """bench/stages.py reads a sync's CPU as this process's and its waited-for children's."""
    before = _children_cpu()
    with warm_taps.session():
        _run(_config(finance_url))
    assert _children_cpu() - before > 0.2  # the launcher's imports alone cost more than that


def test_a_dead_launcher_means_the_taps_are_exec_d(finance_url):
    exec_d = _messages(_run(_config(finance_url)))
    with warm_taps.session():
        launcher = warm_taps.launcher()
        launcher._proc.kill()
        launcher._proc.wait()
        assert _messages(_run(_config(finance_url))) == exec_d
        assert launcher.spawned == 0 and warm_taps.launcher() is None
