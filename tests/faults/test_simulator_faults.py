"""Every simulator fault during a full sync of all four sources (the hub's own ``sync_source``,
real tap processes): recoverable faults — 429 with Retry-After, 5xx bursts, slow replies,
connection resets, truncated bodies, token expiry mid-sync, vendor rate/busy codes — end with
every source exact; fatal ones — an exhausted quota, an unknown vendor code — fail that source
alone, in one line, and a rerun once the vendor recovers is exact.

Fault points (how many calls pass first) come from ``HUB_FAULT_SEED``.
"""

from __future__ import annotations

import json

import pytest

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from tests.faults.harness import FAST_RETRIES, TRIALS, assert_raw_equals_world, duplicate_current, rng

# the taps fork from a warm launcher (tests/conftest.py) - still their own processes, as under `hub run`;
# the exec'd tap is what the kill -9 / source-down tests run (the hub as a subprocess)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]
ALL = ["crm", "u8", "finance", "wecom"]

#: Where each system's data calls go (faults there hit the sync mid-way, not the login).
DATA_PATH = {"crm": "/data/query", "u8": "/api/", "finance": "credit-ratings", "wecom": "/cgi-bin/"}

#: How many matching calls may pass before a fault (each system's small world has few pages).
MAX_SKIP = {"crm": 3, "u8": 3, "finance": 1, "wecom": 2}
#: Faults every tap must ride out; (kind options) per system — vendor codes are each system's own.
RECOVERABLE = {
    "crm": [dict(kind="http", status=429, retry_after=1), dict(kind="http", status=502, count=3),
            dict(kind="slow", delay=1.0), dict(kind="reset"), dict(kind="truncate"),
            dict(kind="expire_token"), dict(code=14001), dict(code=-1, count=2)],
    "u8": [dict(code=429, retry_after=1), dict(code=503, count=3), dict(kind="reset"), dict(kind="truncate"),
           dict(kind="expire_token"), dict(code="-1"), dict(kind="slow", delay=1.0)],
    "finance": [dict(kind="http", status=429, retry_after=1), dict(kind="http", status=500, count=3),
                dict(kind="reset"), dict(kind="truncate"), dict(kind="expire_token")],
    "wecom": [dict(code=45009), dict(code=-1, count=2), dict(kind="reset"), dict(kind="truncate"),
              dict(kind="expire_token"), dict(kind="slow", delay=1.0)],
}
#: Faults that must stop their source with a clear line (and only that source).
#: (A U8 document detail call answering an unknown code only sets that document aside, counted:
#: tests/e2e/test_incremental.py; here the list call answers it.)
FATAL = {"crm": (dict(code=30002), "quota"), "u8": (dict(code="77777", path="batch_get"), "77777")}


@pytest.fixture
def sources(server, monkeypatch):
    data, secrets = demo_sources(server.urls)
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    for src in data["sources"].values():
        src["config"].update(FAST_RETRIES)
    yield parse_sources(data)
    for system in ALL:
        server.sims[system].faults.clear()


def inject(server, system: str, faults: list[dict], pick) -> None:
    for fault in faults:
        options = dict(fault)
        server.inject_fault(system, count=options.pop("count", 1), path=options.pop("path", DATA_PATH[system]),
                            skip=pick.randrange(0, MAX_SKIP[system]), **options)


def sync_everything(engine, sources) -> dict:
    return {s.name: sync_source(engine, s) for s in sources}


def _recoverable_run(engine, server, world, sources, trial):
    pick = rng("recoverable", engine.dialect.name, trial)
    for system, faults in RECOVERABLE.items():
        inject(server, system, pick.sample(faults, len(faults)), pick)
    results = sync_everything(engine, sources)
    assert {k: (r.status, r.error) for k, r in results.items()} == {k: ("succeeded", None) for k in ALL}
    assert {system: server.sims[system].faults.pending for system in ALL} == dict.fromkeys(ALL, 0), \
        "some injected faults were never served"
    assert_raw_equals_world(engine, world, ALL)


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_recoverable_faults_in_every_source_end_exact(engine, server, world, sources):
    _recoverable_run(engine, server, world, sources, 0)


@pytest.mark.faults_long
@pytest.mark.postgres
@pytest.mark.parametrize("warehouse_url", ["postgres"], indirect=True)  # the quick variant runs on SQLite
@pytest.mark.parametrize("trial", range(1, TRIALS + 1))
def test_recoverable_faults_at_many_points(engine, server, world, sources, trial):
    _recoverable_run(engine, server, world, sources, trial)


def test_fatal_codes_fail_their_source_alone_in_one_line_and_a_rerun_is_exact(tmp_path, server, world, sources):
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    pick = rng("fatal")
    for system, (fault, _) in FATAL.items():
        inject(server, system, [fault], pick)
    results = sync_everything(engine, sources)
    for system, (_, words) in FATAL.items():
        failed = results[system]
        assert failed.status == "failed" and "\n" not in failed.error and words in failed.error, (system, vars(failed))
    for system in set(ALL) - set(FATAL):
        assert results[system].status == "succeeded"
    assert duplicate_current(engine) == []
    assert_raw_equals_world(engine, world, sorted(set(ALL) - set(FATAL)))  # the healthy sources are whole
    again = sync_everything(engine, sources)  # the vendor recovered
    assert {k: r.status for k, r in again.items()} == dict.fromkeys(ALL, "succeeded")
    assert_raw_equals_world(engine, world, ALL)
    for result in [*results.values(), *again.values()]:
        text = json.dumps(result.error or "")
        assert not any(value in text for value in demo_sources(server.urls)[1].values())
    engine.dispose()
