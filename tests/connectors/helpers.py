"""Scaffolding shared by the tap tests: in-process syncs, simulator fixtures, the standard suite."""

from __future__ import annotations

import contextlib
import io
import json
import typing as t
from dataclasses import dataclass, field

import pytest
from singer_sdk.testing import get_tap_test_class

from simulators.common import RateLimiter, RateRule
from simulators.server import SimulatorServer

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.streams import Stream


#: The call budgets every connector test runs under: the simulators enforce them and the
#: taps are told the same numbers (``rate_limits``), so the real pacing code path is always
#: on - with test-friendly windows (the real ones are minutes; see test_budgets.py for a
#: test at the real Fenxiang numbers).
TEST_RATE_LIMITS: dict[str, list[dict]] = {
    "crm": [
        {"name": "token", "match": "/cgi/corpAccessToken/get/V2", "max_calls": 10, "window_seconds": 1},
        {"name": "query", "match": "/data/query", "max_calls": 40, "window_seconds": 1, "per_path": True},
    ],
    "u8": [
        {"name": "token", "match": "/system/token", "max_calls": 10, "window_seconds": 1},
        {"name": "api", "match": "/api/", "max_calls": 60, "window_seconds": 1},
    ],
    "finance": [
        {"name": "token", "match": "/api/v1/auth/token", "max_calls": 10, "window_seconds": 1},
        {"name": "api", "match": "/api/v1/credit-ratings", "max_calls": 40, "window_seconds": 1},
    ],
    "wecom": [
        {"name": "token", "match": "/cgi-bin/gettoken", "max_calls": 10, "window_seconds": 1},
        {"name": "api", "match": "/cgi-bin/", "max_calls": 200, "window_seconds": 1},
    ],
}
#: Each simulator's "over the limit" answer.
LIMIT_CODES = {"crm": 14001, "u8": 429, "finance": 429, "wecom": 45009}


def sim_rules(system: str, limits: list[dict] | None = None) -> list[RateRule]:
    """Tap-style ``rate_limits`` as the simulator's rules for ``system``."""
    return [
        RateRule(r["match"], r["max_calls"], r["window_seconds"], LIMIT_CODES[system],
                 per_path=bool(r.get("per_path", False)))
        for r in (TEST_RATE_LIMITS[system] if limits is None else limits)
    ]


def test_rate_limits() -> dict[str, list[RateRule]]:
    """Simulator budgets for every system (``SimulatorServer(..., rate_limits=...)``)."""
    return {system: sim_rules(system) for system in TEST_RATE_LIMITS}


def tap_config(url: str, credentials: dict, **overrides: object) -> dict:
    """A tap config for the simulator at ``url`` (``.../<system>``): retries wait
    milliseconds, not seconds, and the tap paces itself to the test budgets."""
    system = url.rstrip("/").rsplit("/", 1)[-1]
    budgets = {"rate_limits": TEST_RATE_LIMITS[system]} if system in TEST_RATE_LIMITS else {}
    return {"base_url": url, **credentials, "backoff_factor": 0.01, **budgets, **overrides}


def record_results(
    monkeypatch: pytest.MonkeyPatch,
    cls: type,
    method: str,
    keep: t.Callable[[t.Any], t.Any],
) -> list:
    """Patch ``cls.method`` to also append ``keep(<its result>)`` to the returned list."""
    original = getattr(cls, method)
    seen: list = []

    def spy(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        result = original(self, *args, **kwargs)
        seen.append(keep(result))
        return result

    monkeypatch.setattr(cls, method, spy)
    return seen


@dataclass
class SyncResult:
    """The Singer messages of one sync, with records by stream and the final state."""

    tap: Tap
    messages: list[dict]
    records: dict[str, list[dict]] = field(default_factory=dict)
    state: dict = field(default_factory=dict)


def sync_tap(tap_class: type[Tap], config: dict, state: dict | None = None) -> SyncResult:
    """Run a full sync in-process, capturing the Singer messages."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        tap = tap_class(config=config, state=state, parse_env_config=False)
        tap.sync_all()
    messages = [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
    result = SyncResult(tap=tap, messages=messages)
    for msg in messages:
        if msg["type"] == "RECORD":
            result.records.setdefault(msg["stream"], []).append(msg["record"])
        elif msg["type"] == "STATE":
            result.state = msg["value"]
    return result


def capture_sync(stream: Stream) -> io.StringIO:
    """Sync one stream of a tap, returning its Singer output (stdout)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        stream.sync()
    return buf


def simulator_fixtures(source: str, name: str | None = None) -> tuple[t.Any, t.Any]:
    """Fixtures ``sim`` and ``name`` (default: ``source``); assign them to those names.

    ``sim`` is one simulator of ``source`` for the whole module (starting one per test
    would dominate the run time); ``name`` is that simulator with a clean slate - no
    faults, fresh call counters - for each test.
    """

    @pytest.fixture(scope="module", name="sim")
    def module_simulator():
        with SimulatorServer({source: {}}, rate_limits=test_rate_limits()) as server:
            yield server

    @pytest.fixture(name=name or source)
    def clean_simulator(sim):
        state = sim.sims[source]
        state.faults.clear()
        state.calls.clear()
        state.rejections.clear()
        state.limiter = RateLimiter(sim_rules(source))  # each test starts with empty windows
        yield sim
        state.faults.clear()
        assert not state.rejections, f"the tap exceeded the simulator's budget: {state.rejections}"

    return module_simulator, clean_simulator


def standard_tests(
    tap_class: type[Tap], config: dict, source: str, world: t.Callable[[], dict]
) -> type:
    """singer-sdk's standard tap tests, against a simulator started for the class.

    ``config`` gets the simulator's URL as ``base_url`` when it starts: the test runner
    holds that very dict, so the placeholder URL it was built with is never called.
    """

    class StandardTests(get_tap_test_class(tap_class, config=config)):  # type: ignore[misc]
        @pytest.fixture(scope="class", autouse=True)
        @classmethod
        def simulator(cls):
            with SimulatorServer(world(), rate_limits=test_rate_limits()) as sim:
                config["base_url"] = sim.urls[source]
                yield sim

    return StandardTests
