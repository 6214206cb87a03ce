"""Runs that tell the truth: the per-source lock, heartbeats and interrupted runs, on both backends."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from connectors.runs import (
    Heartbeat,
    SourceBusy,
    SourceLock,
    recover_interrupted,
    start_run,
    this_host,
)
from connectors.sources import SourceConfig
from connectors.sync import sync_source
from hub_core.schema import source_lock, sync_run


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def lock_row(engine, source, pid, host, beat_age_s=0.0):
    moment = datetime.now(UTC) - timedelta(seconds=beat_age_s)
    with engine.begin() as conn:
        conn.execute(insert(source_lock).values(source=source, pid=pid, host=host, acquired_at=moment,
                                                heartbeat_at=moment))


def running_row(engine, source, pid, host, beat_age_s=0.0) -> int:
    moment = datetime.now(UTC) - timedelta(seconds=beat_age_s)
    with engine.begin() as conn:
        return conn.execute(insert(sync_run).returning(sync_run.c.id), {
            "source": source, "started_at": moment, "status": "running", "records_seen": 0, "records_landed": 0,
            "records_rejected": 0, "pid": pid, "host": host, "heartbeat_at": moment}).scalar_one()


def statuses(engine) -> dict:
    with engine.connect() as conn:
        return {r.id: (r.status, r.error) for r in conn.execute(select(sync_run))}


def test_a_second_sync_of_a_source_is_refused_while_the_first_holds_the_lock(engine):
    first = SourceLock(engine, "crm")
    first.acquire()
    with pytest.raises(SourceBusy, match=r"a sync is already running — process \d+ on .* since"):
        SourceLock(engine, "crm").acquire()
    SourceLock(engine, "u8").acquire()  # other sources are independent
    first.release()
    SourceLock(engine, "crm").acquire()


def test_a_lock_left_by_a_dead_process_or_a_silent_host_is_taken_over(engine):
    lock_row(engine, "crm", dead_pid(), this_host())
    lock_row(engine, "u8", 4242, "other-host", beat_age_s=3600)
    lock_row(engine, "wecom", 4242, "other-host", beat_age_s=1)
    SourceLock(engine, "crm").acquire()
    SourceLock(engine, "u8").acquire()
    with pytest.raises(SourceBusy, match="other-host"):
        SourceLock(engine, "wecom").acquire()


def test_running_rows_of_gone_processes_become_interrupted_and_live_ones_stay(engine):
    gone_here = running_row(engine, "crm", dead_pid(), this_host())
    alive_here = running_row(engine, "u8", os.getpid(), this_host())
    silent_elsewhere = running_row(engine, "finance", 77, "other-host", beat_age_s=3600)
    fresh_elsewhere = running_row(engine, "wecom", 77, "other-host", beat_age_s=1)
    lock_row(engine, "crm", dead_pid(), this_host())
    assert sorted(recover_interrupted(engine)) == sorted([gone_here, silent_elsewhere])
    result = statuses(engine)
    assert result[gone_here][0] == "interrupted" and "stopped before finishing" in result[gone_here][1]
    assert result[silent_elsewhere][0] == "interrupted"
    assert result[alive_here][0] == result[fresh_elsewhere][0] == "running"
    with engine.connect() as conn:
        assert conn.execute(select(source_lock)).all() == []  # the dead holder's lock is freed
    assert recover_interrupted(engine) == []  # idempotent


def test_on_this_host_a_live_pid_outweighs_a_merely_late_heartbeat(engine):
    late = running_row(engine, "crm", os.getpid(), this_host(), beat_age_s=300)
    very_late = running_row(engine, "u8", os.getpid(), this_host(), beat_age_s=3600)
    assert recover_interrupted(engine, stale_after_s=120) == [very_late]  # 10x: a reused pid
    assert statuses(engine)[late][0] == "running"


def test_sync_removes_config_folders_left_by_earlier_versions(engine, tmp_path, monkeypatch):
    import tempfile

    temp = tmp_path / "temp"
    leftover = temp / "hub-tap-abc123"
    leftover.mkdir(parents=True)
    (leftover / "config.json").write_text('{"app_secret": "x"}')
    (temp / "unrelated").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    sync_source(engine, SourceConfig(name="plain", command=[sys.executable, "-c", "pass"]))
    assert sorted(p.name for p in temp.iterdir()) == ["unrelated"]


def test_heartbeat_refreshes_the_run_and_writes_counts_so_far(engine):
    lock = SourceLock(engine, "crm")
    lock.acquire()
    run_id = start_run(engine, "crm", full_refresh=True)
    counts = {"records_seen": 0, "records_landed": 0, "records_rejected": 0}
    with engine.connect() as conn:
        before = conn.execute(select(sync_run.c.heartbeat_at).where(sync_run.c.id == run_id)).scalar_one()
    with Heartbeat(engine, run_id, lock, lambda: counts, every_s=0.05):
        counts.update(records_seen=7, records_landed=5, records_rejected=2)
        time.sleep(0.4)
    with engine.connect() as conn:
        row = conn.execute(select(sync_run).where(sync_run.c.id == run_id)).one()
        held = conn.execute(select(source_lock)).one()
    assert (row.records_seen, row.records_landed, row.records_rejected, row.full_refresh) == (7, 5, 2, True)
    assert row.heartbeat_at > before and row.pid == os.getpid() and row.host == this_host()
    assert held.heartbeat_at > before


def test_sync_source_is_refused_without_a_run_row_while_another_sync_runs(engine, tmp_path):
    holder = SourceLock(engine, "plain")
    holder.acquire()
    result = sync_source(engine, SourceConfig(name="plain", command=[sys.executable, "-c", "pass"]))
    assert result.status == "refused" and result.run_id is None and "already running" in result.error
    assert statuses(engine) == {}


def test_a_database_fault_while_landing_is_one_short_line_without_record_data(engine, tmp_path, caplog):
    """A real database failure mid-sync: the run fails with a short line; neither the result,
    the run row nor the log quote the statement or the record."""
    import logging

    from sqlalchemy import text

    from tests.hub_cli.plain_tap import write_plain_tap

    with engine.begin() as conn:  # the raw table is gone: every insert fails
        conn.execute(text("ALTER TABLE raw_record RENAME TO raw_record_away"))
    source = SourceConfig(name="plain", command=[write_plain_tap(tmp_path / "tap")],
                          config={"stream": "PRIVATE_STREAM_NAME", "records": 3})
    with caplog.at_level(logging.INFO):
        result = sync_source(engine, source)
    assert result.status == "failed" and result.kind == "warehouse"
    assert result.error.startswith("warehouse error while landing (") and len(result.error) < 400
    assert statuses(engine)[result.run_id] == ("failed", result.error)
    for text_ in (result.error, caplog.text):
        assert "INSERT" not in text_ and "[SQL" not in text_ and "PRIVATE_STREAM_NAME" not in text_
    assert "Traceback" in caplog.text  # the frames are in the log, for whoever debugs it
