"""Shared scaffolding of the fault suite: a served world, a hub "home" (its own TMPDIR, logs,
connectors file and warehouse), the hub as a real subprocess, and the exactness checks every
fault test ends with (raw tables equal the source, unified tables equal an uninterrupted run).

Random fault points come from ``HUB_FAULT_SEED`` (fixed default, so CI is reproducible) and the
many-trial variants run ``HUB_FAULT_TRIALS`` trials (default 1).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

from connectors.landing import record_hash, record_key
from hub_cli.demo import demo_sources
from hub_core.schema import raw_record, raw_stream, sync_run
from simulators.server import SimulatorServer

HUB = str(Path(sys.executable).parent / "hub")
SEED = int(os.environ.get("HUB_FAULT_SEED", "20261130"))
TRIALS = int(os.environ.get("HUB_FAULT_TRIALS", "1"))  # small: CI runs the long variants on every push
FAST_RETRIES = {"backoff_factor": 0.01}  # retries wait milliseconds (Retry-After is still honoured)


def rng(*label: object) -> random.Random:
    """A random stream for one test and trial, derived from ``HUB_FAULT_SEED``."""
    return random.Random(f"{SEED}:" + ":".join(map(str, label)))


@dataclass
class Home:
    """A working folder for hub subprocesses: env, connectors file, the secrets in play."""

    folder: Path
    env: dict
    secrets: dict = field(default_factory=dict)

    @property
    def tmp(self) -> Path:
        return self.folder / "tmp"

    def hub(self, *args: str, timeout: float = 180, **popen) -> subprocess.CompletedProcess:
        """Run ``hub ARGS`` to the end."""
        return subprocess.run([HUB, *args], check=False, capture_output=True, text=True, env=self.env,
                              cwd=self.folder, timeout=timeout, **popen)

    def start(self, *args: str, **popen) -> subprocess.Popen:
        """Start ``hub ARGS`` in the background."""
        return subprocess.Popen([HUB, *args], env=self.env, cwd=self.folder, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **popen)

    def leftover_secrets(self) -> list[str]:
        """Files under the home (TMPDIR, logs, warehouse, outputs) holding a secret value."""
        values = [v.encode() for v in self.secrets.values() if v]
        found = []
        for path in self.folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}" for v in values if v in data]
        return found


def make_home(folder: Path, server: SimulatorServer, warehouse_url: str, sources: list[str] | None = None,
              overrides: dict | None = None) -> Home:
    """Write a connectors file for ``server`` (``sources`` only; extra config per source from
    ``overrides``) and the environment of a hub subprocess that uses it."""
    data, secrets = demo_sources(server.urls)
    chosen = {name: src for name, src in data["sources"].items() if sources is None or name in sources}
    for name, src in chosen.items():
        src["config"].update(FAST_RETRIES)
        src["config"].update((overrides or {}).get(name, {}))
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    (folder / "connectors.yaml").write_text(json.dumps({"sources": chosen}), encoding="utf-8")
    env = {**os.environ, **secrets, "TMPDIR": str(folder / "tmp"), "HUB_LOG_DIR": str(folder / "logs"),
           "HUB_WAREHOUSE_URL": warehouse_url, "HUB_CONNECTORS_FILE": str(folder / "connectors.yaml"),
           "COLUMNS": "200", "HUB_HEARTBEAT_SECONDS": "0.5"}
    return Home(folder, env, secrets)


@contextmanager
def served(world):
    """The simulators serving ``world`` (a dict; kept unchanged by the suite)."""
    with SimulatorServer(world) as server:
        yield server


def output_lines(result) -> list[str]:
    """Non-blank lines of a finished process's stdout and stderr."""
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


# --- exactness -------------------------------------------------------------------------------

def _lift_keys(record: dict, keys: list[str]) -> dict:
    """A world record as its tap emits it: key properties nested in sub-objects (WeCom's
    ``external_contact.external_userid``) are lifted to the top level."""
    lifted = {}
    for key in keys:
        if key not in record:
            for value in record.values():
                if isinstance(value, dict) and key in value:
                    lifted[key] = value[key]
                    break
    return {**lifted, **record}


def world_truth(world: dict, engine: Engine, sources: list[str]) -> dict:
    """{(source, stream): {key: content hash}} of the world's records, keyed as landed."""
    with engine.connect() as conn:
        keys = {(s, st): json.loads(k) for s, st, k in conn.execute(
            select(raw_stream.c.source, raw_stream.c.stream, raw_stream.c.key_properties))}
    truth = {}
    for source in sources:
        for stream, records in world[source].items():
            if not isinstance(records, list) or (source, stream) not in keys:
                continue
            props = keys[(source, stream)]
            truth[(source, stream)] = {record_key(r, props): record_hash(r)
                                       for r in (_lift_keys(r, props) for r in records)}
    return truth


def raw_current(engine: Engine) -> dict:
    """{(source, stream): {key: hash}} of the current, live raw versions."""
    out: dict = {}
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.source, raw_record.c.stream, raw_record.c.record_key,
                                   raw_record.c.record_hash).where(raw_record.c.is_current,
                                                                   raw_record.c.deleted_at.is_(None)))
        for source, stream, key, digest in rows:
            out.setdefault((source, stream), {})[key] = digest
    return out


def duplicate_current(engine: Engine) -> list:
    """Keys with more than one current version (must be none)."""
    with engine.connect() as conn:
        return conn.execute(
            select(raw_record.c.source, raw_record.c.stream, raw_record.c.record_key, func.count())
            .where(raw_record.c.is_current)
            .group_by(raw_record.c.source, raw_record.c.stream, raw_record.c.record_key)
            .having(func.count() > 1)).all()


def assert_raw_equals_world(engine: Engine, world: dict, sources: list[str]) -> None:
    """Same key set, same content hash per stream, one current version per key."""
    truth = world_truth(world, engine, sources)
    assert truth, "no stream landed at all"
    landed = raw_current(engine)
    for (source, stream), expected in truth.items():
        got = landed.get((source, stream), {})
        assert set(got) == set(expected), (
            f"{source}.{stream}: {len(got)} landed vs {len(expected)} in the source; "
            f"missing {sorted(set(expected) - set(got))[:5]}, extra {sorted(set(got) - set(expected))[:5]}")
        wrong = [k for k in expected if got[k] != expected[k]]
        assert not wrong, f"{source}.{stream}: content differs for {wrong[:5]}"
    assert duplicate_current(engine) == []


def run_statuses(engine: Engine) -> list[tuple[str, str]]:
    """(source, status) of every sync run, oldest first."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(sync_run.c.source, sync_run.c.status).order_by(sync_run.c.id))]


def unified_snapshot(engine: Engine, as_of) -> dict:
    """Build the unified model as of ``as_of`` and return its content (bookkeeping ids aside)."""
    from hub_core.schema import metadata
    from mappings.build import _REBUILT, build_customer360
    from tests.mappings.test_incremental_build import SKIP

    build_customer360(engine, as_of=as_of)
    out = {}
    with engine.connect() as conn:
        for name in _REBUILT:
            table = metadata.tables[name]
            # when a source was synced differs between two runs by design; everything else must not
            cols = [c for c in table.c if c.name not in SKIP and not c.name.endswith("_synced_at")]
            out[name] = sorted(tuple(_plain(v) for v in r) for r in conn.execute(select(*cols)))
    return out


def _plain(value) -> str:
    """A value as text the same on both backends (SQLite hands back naive UTC datetimes)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, float | Decimal):
        return repr(round(float(value), 6))
    return str(value)


# --- processes ---------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """The direct children of a process (from /proc)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (taps, and a warm launcher with its minders and taps)."""
    return [p for kid in children(pid) for p in (kid, *descendants(kid))]


def taps(pid: int) -> list[int]:
    """The tap processes of a hub: its children, and for its warm launcher (connectors/warm_taps.py:
    launcher -> one minder per tap -> the tap) the launcher's grandchildren. A tap killed by a
    test must be the tap itself, and every one of them must die with the hub."""
    found = []
    for kid in children(pid):
        try:
            launcher = b"connectors.warm_taps" in Path(f"/proc/{kid}/cmdline").read_bytes()
        except OSError:
            continue
        found += [tap for minder in children(kid) for tap in children(minder)] if launcher else [kid]
    return found


def written(pid: int) -> int:
    """Bytes ``pid`` has written so far (``wchar`` of /proc/PID/io: its Singer output and logs), 0
    once it is gone. A tap writes into a pipe the hub drains, so it cannot run far ahead of what
    was landed: a kill at a share of these bytes lands inside the tap's stream, however fast it runs."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float = 30.0, step: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (returned) or time runs out (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def snapshot_diff(got: dict, want: dict) -> dict:
    """Per table, the first rows only in ``got`` / only in ``want`` (empty when equal)."""
    out = {}
    for name in sorted(set(got) | set(want)):
        a, b = set(got.get(name, [])), set(want.get(name, []))
        if a != b:
            out[name] = {"only_here": sorted(a - b)[:2], "only_in_reference": sorted(b - a)[:2],
                         "counts": (len(got.get(name, [])), len(want.get(name, [])))}
    return out
