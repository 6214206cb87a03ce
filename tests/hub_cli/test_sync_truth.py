"""``hub sync`` as IT meets it, in real processes: exit codes, one line per failure, no
traceback without -v, the per-source lock, kill -9 leaving nothing behind, interrupted runs."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from hub_core.schema import source_lock, sync_run
from simulators import credentials as c
from simulators.server import SimulatorServer
from tests.e2e.worlds import handmade_world
from tests.hub_cli.plain_tap import write_plain_tap

HUB = str(Path(sys.executable).parent / "hub")
SECRET = "s3cret-token-value-9876"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def home(tmp_path):
    """A working folder with its own TMPDIR, log folder and SQLite warehouse."""
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "HUB_LOG_DIR": str(tmp_path / "logs"),
           "HUB_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}", "HUB_CONNECTORS_FILE": str(tmp_path / "c.yaml"),
           "PLAIN_TOKEN": SECRET, "COLUMNS": "200", "HUB_HEARTBEAT_SECONDS": "0.3"}
    return tmp_path, env


def hub(env, *args, cwd=None, timeout=60):
    return subprocess.run([HUB, *args], check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def lines(result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


@pytest.mark.slow
def test_wrong_credentials_and_port_are_one_line_each_fast_and_exit_1(home):
    folder, env = home
    with SimulatorServer(handmade_world()) as server:
        good = {"base_url": server.urls["crm"], "app_id": c.CRM.app_id, "app_secret": c.CRM.app_secret,
                "permanent_code": c.CRM.permanent_code, "current_open_user_id": c.CRM.current_open_user_id}
        (folder / "c.yaml").write_text(yaml.safe_dump({"sources": {
            "badcrm": {"connector": "fxiaoke", "config": {**good, "app_secret": "${PLAIN_TOKEN}"}},
            "down": {"connector": "fxiaoke", "config": {**good, "base_url": f"http://127.0.0.1:{free_port()}/crm"}},
        }}))
        begun = time.monotonic()
        result = hub(env, "sync", cwd=folder)
        took = time.monotonic() - begun
        verbose = hub(env, "-v", "sync", "--source", "badcrm", cwd=folder)
    out = lines(result)
    assert result.returncode == 1
    assert [line for line in out if line.startswith("badcrm:")] == [
        "badcrm: failed — credentials rejected (10006) — check app_secret"]
    down = [line for line in out if line.startswith("down:")]
    assert len(down) == 1 and "connection refused at http://127.0.0.1:" in down[0]
    assert down[0].endswith("— check base_url and that the CRM is reachable")
    assert "Traceback" not in result.stdout + result.stderr
    # no retrying into the 300 s retry budget: a config error and a refused port stop at once
    # (about 4 s here; the bound is loose because CI machines are shared, speed is bench's job)
    assert took < 120
    assert "File \"" in verbose.stderr and "SourceConfigError" in verbose.stderr  # -v shows the details
    log = (folder / "logs" / "hub.log").read_text()
    assert "File \"" in log and "credentials rejected (10006)" in log
    for text in (log, result.stdout, result.stderr, verbose.stdout, verbose.stderr):
        assert SECRET not in text


def test_bad_warehouse_url_is_one_line(home):
    folder, env = home
    for url in ("postgresql+psycopg://postgres:pw@127.0.0.1:1/x", "no-such-scheme"):
        result = hub(env, "runs", "--warehouse", url, cwd=folder)
        assert result.returncode == 1 and len(lines(result)) == 1, lines(result)
        assert lines(result)[0].startswith("error: warehouse") and "pw@" not in result.stderr


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_lock_refusal_then_kill_9_leaves_nothing_and_the_run_shows_interrupted(home):
    folder, env = home
    report = folder / "report.jsonl"
    (folder / "c.yaml").write_text(yaml.safe_dump({"sources": {"slow": {
        "command": [write_plain_tap(folder / "tap-slow")],
        "config": {"token": "${PLAIN_TOKEN}", "sleep": "${PLAIN_SLEEP}", "report": str(report)}}}}))
    first = subprocess.Popen([HUB, "sync"], env={**env, "PLAIN_SLEEP": "60"}, cwd=folder,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    engine = create_engine(env["HUB_WAREHOUSE_URL"])
    try:
        # the tap has run (discover, then sync) and a heartbeat has reported its records
        _wait_for(lambda: report.exists() and len(report.read_text().splitlines()) >= 2)

        def seen():
            with engine.connect() as conn:
                return conn.execute(select(sync_run.c.records_seen)).scalar()
        assert _wait_for(lambda: _try(seen)) == 2
        second = hub({**env, "PLAIN_SLEEP": "0"}, "sync", cwd=folder)
        assert second.returncode == 1
        assert lines(second) == [line for line in lines(second) if "Traceback" not in line]
        assert any(line.startswith("slow: refused — a sync is already running (run 1) — process "
                                   f"{first.pid} on ") for line in lines(second)), lines(second)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    tap_pid = [__import__("json").loads(line) for line in report.read_text().splitlines()][-1]["pid"]
    _wait_for(lambda: not _alive(tap_pid), timeout=10)  # the tap died with the hub
    assert [p for p in (folder / "tmp").rglob("*")] == []  # nothing on disk, ever
    runs = hub(env, "runs", cwd=folder)
    assert runs.returncode == 0 and "interrupted" in runs.stdout and "stopped before finishing" in runs.stdout
    with engine.connect() as conn:
        assert conn.execute(select(sync_run.c.status)).scalars().all() == ["interrupted"]
        assert conn.execute(select(source_lock)).all() == []
    again = hub({**env, "PLAIN_SLEEP": "0"}, "sync", cwd=folder)
    assert again.returncode == 0 and lines(again)[0].startswith("slow: ")
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "c.yaml":
            assert SECRET.encode() not in path.read_bytes(), path
    engine.dispose()


def _try(fn):
    try:
        return fn()
    except Exception:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its dead parent's reaper) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_an_unexpected_error_is_one_line_pointing_at_the_log(home):
    folder, env = home
    result = hub(env, "report", "--out", "/dev/null/x", cwd=folder)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert lines(result) == [f"error: unexpected NotADirectoryError: [Errno 20] Not a directory: '/dev/null/x' — "
                             f"details in {folder / 'logs' / 'hub.log'} (or run with -v)"]
    assert "Traceback" in (folder / "logs" / "hub.log").read_text()
