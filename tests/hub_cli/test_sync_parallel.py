"""``hub sync --parallel``: sources really sync at once, a failing one stops none of the others,
and each source's tap lines count for that source."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from rich.console import Console
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from hub_cli.main import app
from hub_cli.progress import SyncProgress
from hub_cli.sync_cmd import default_parallel
from hub_core.schema import source_lock, sync_run

runner = CliRunner()

# Each tap leaves a mark, then waits for the other tap's mark: run one after the other, the first
# would wait in vain (and fail); run together, both see each other and emit their record.
RENDEZVOUS = r'''
import json, os, sys, time
args = sys.argv[1:]
cfg = json.load(open(args[args.index("--config") + 1]))
stream = cfg["stream"]
schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
if "--discover" in args:
    print(json.dumps({"streams": [{"tap_stream_id": stream, "stream": stream, "schema": schema,
        "key_properties": ["id"], "metadata": [{"breadcrumb": [], "metadata": {}}]}]}))
    sys.exit(0)
open(cfg["mark"], "w").close()
deadline = time.monotonic() + cfg["patience"]
while not os.path.exists(cfg["wait_for"]):
    if time.monotonic() > deadline:
        sys.stderr.write("Traceback (most recent call last):\nRuntimeError: the other tap never started\n")
        sys.exit(1)
    time.sleep(0.05)
sys.stderr.write('INFO METRIC: {"type":"counter","metric":"http_request_count","value":1,"tags":{"stream":"%s"}}\n' % stream)
print(json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]}))
print(json.dumps({"type": "RECORD", "stream": stream, "record": {"id": 1}}))
'''


def _tap(path: Path) -> str:
    path.write_text("#!" + sys.executable + "\n" + RENDEZVOUS, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def _connectors(tmp_path: Path, patience: float = 30) -> Path:
    tap = _tap(tmp_path / "tap-meet")
    conf = {"sources": {
        "one": {"command": [tap], "config": {"stream": "ones", "mark": str(tmp_path / "one.mark"),
                                             "wait_for": str(tmp_path / "two.mark"), "patience": patience}},
        "broken": {"command": [str(tmp_path / "no-such-tap")]},
        "two": {"command": [tap], "config": {"stream": "twos", "mark": str(tmp_path / "two.mark"),
                                             "wait_for": str(tmp_path / "one.mark"), "patience": patience}},
    }}
    path = tmp_path / "connectors.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def test_sources_sync_at_once_and_a_broken_one_stops_none(tmp_path):
    path, wh = _connectors(tmp_path), f"sqlite:///{tmp_path / 'w.db'}"
    result = runner.invoke(app, ["sync", "--parallel", "3", "--connectors", str(path), "--warehouse", wh])
    out = " ".join(result.output.split())
    assert result.exit_code == 1, result.output  # the broken source fails the command ...
    assert "one: 1 records read, 1 landed" in out and "two: 1 records read, 1 landed" in out  # ... not the others
    assert "broken: failed" in out
    engine = create_engine(wh)
    with engine.connect() as conn:
        runs = dict(conn.execute(select(sync_run.c.source, sync_run.c.status)).all())
    engine.dispose()
    assert runs == {"one": "succeeded", "two": "succeeded", "broken": "failed"}


def test_one_at_a_time_the_rendezvous_fails(tmp_path):
    """The same sources with --parallel 1: proof that the test above needed them to run at once."""
    path, wh = _connectors(tmp_path, patience=2), f"sqlite:///{tmp_path / 'w.db'}"
    result = runner.invoke(app, ["sync", "--parallel", "1", "--source", "one", "--connectors", str(path),
                                 "--warehouse", wh])
    assert result.exit_code == 1 and "one: failed" in " ".join(result.output.split())


def test_default_is_parallel_on_postgresql_only():
    assert default_parallel("sqlite:///w.db") == 1
    assert default_parallel("postgresql+psycopg://u@h/db") > 1


def test_each_sources_tap_lines_count_for_that_source():
    progress = SyncProgress(Console(file=io.StringIO(), width=200), live=False)
    crm, u8 = progress.for_source("crm"), progress.for_source("u8")
    crm.sync_started("crm", 1, SimpleNamespace(seen=0, streams={}))
    u8.sync_started("u8", 2, SimpleNamespace(seen=0, streams={}))  # u8 started last ...
    metric = ('METRIC: {"type":"counter","metric":"http_request_count","value":1,"tags":{"stream":"%s"}}')
    for _ in range(3):
        crm.tap_line(metric % "AccountObj")  # ... yet crm's lines are crm's
    u8.tap_line(metric % "customer")
    u8.tap_line("budget: waiting 1.0 s for the call budget")
    assert dict(progress.sources["crm"].pages) == {"AccountObj": 3}
    assert dict(progress.sources["u8"].pages) == {"customer": 1}
    assert (progress.sources["crm"].waits, progress.sources["u8"].waits) == (0, 1)


@pytest.mark.slow
def test_ctrl_c_interrupts_every_running_sync(tmp_path):
    """Ctrl-C reaches the main thread only: the syncs running in other threads must end
    ``interrupted`` too (as a one-at-a-time sync does), their locks freed, none left running."""
    from tests.hub_cli.plain_tap import write_plain_tap

    tap = write_plain_tap(tmp_path / "tap-slow")
    sources = {name: {"command": [tap], "config": {"stream": name, "sleep": 60}} for name in ("a", "b")}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"sources": sources}))
    (tmp_path / "tmp").mkdir()
    wh = f"sqlite:///{tmp_path / 'wh.db'}"
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "HUB_LOG_DIR": str(tmp_path / "logs"),
           "HUB_HEARTBEAT_SECONDS": "0.3", "COLUMNS": "200"}
    hub = subprocess.Popen([str(Path(sys.executable).parent / "hub"), "sync", "--parallel", "2", "--connectors",
                            str(tmp_path / "c.yaml"), "--warehouse", wh], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    engine = create_engine(wh)

    def both_landing() -> bool:  # both taps are up and sleeping: their records reached the heartbeat
        try:
            with engine.connect() as conn:
                return conn.execute(select(sync_run.c.records_seen)).scalars().all() == [2, 2]
        except Exception:
            return False

    try:
        deadline = time.monotonic() + 60
        while not both_landing():
            assert time.monotonic() < deadline and hub.poll() is None, hub.stdout.read().decode()
            time.sleep(0.2)
        os.killpg(hub.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the hub and its taps
        hub.wait(timeout=30)  # not the taps' 60 s
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGKILL)
    assert hub.returncode != 0
    with engine.connect() as conn:
        assert sorted(conn.execute(select(sync_run.c.source, sync_run.c.status)).all()) == [
            ("a", "interrupted"), ("b", "interrupted")]
        assert conn.execute(select(source_lock)).all() == []
    engine.dispose()
