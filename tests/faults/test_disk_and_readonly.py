"""A full disk and a read-only warehouse: ``hub sync`` fails with one clear line per failure, no
traceback on the console, nothing half-committed (what landed is exact and a rerun once the
disk has room completes exactly).

Tests run as root, so file permissions would not bite: the read-only warehouse is a SQLite
``mode=ro`` URL and a PostgreSQL role that may only SELECT. The full disk is a file-size limit
(``RLIMIT_FSIZE``) on the hub process — its SQLite writes then fail with EFBIG.
"""

from __future__ import annotations

import resource
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hub_core.schema import raw_record, sync_run
from hub_core.warehouse import open_warehouse
from tests.faults.harness import (
    assert_raw_equals_world,
    duplicate_current,
    make_home,
    output_lines,
    raw_current,
    run_statuses,
    world_truth,
)

pytestmark = pytest.mark.slow
SOURCES = ["crm", "u8"]
ROOM = 100_000  # bytes a warehouse file may grow by: crm fits, u8 does not


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert 'File "' not in result.stdout + result.stderr


def test_full_disk_fails_in_one_line_keeps_what_landed_exact_and_a_rerun_completes(tmp_path, server, world):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    open_warehouse(url).dispose()  # migrated first: the disk fills while landing, not while migrating
    limit = (tmp_path / "w.db").stat().st_size + ROOM
    home = make_home(tmp_path, server, url, SOURCES)

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = home.hub("sync", preexec_fn=small_disk)
    _no_traceback(full)
    assert full.returncode == 1, full.stdout + full.stderr
    # the disk fills while a source lands (that source fails, one line) or while the hub books a
    # run (the command stops, one line); either way the line names the warehouse error
    lines = output_lines(full)
    failed = [line for line in lines if line.split(":")[0] in SOURCES and "failed —" in line]
    stopped = [line for line in lines if line.startswith("error: warehouse error:")]
    assert failed or stopped, lines
    assert all("warehouse error while landing" in line for line in failed) and len(stopped) <= 1, lines
    assert all("\n" not in line and ("disk" in line or "full" in line) for line in failed + stopped), lines
    engine = create_engine(url)
    try:
        # what was committed is whole: every current row equals the source's record, no duplicates
        truth, landed = world_truth(world, engine, SOURCES), raw_current(engine)
        for stream, rows in landed.items():
            assert all(truth[stream].get(key) == digest for key, digest in rows.items()), stream
        assert duplicate_current(engine) == []
        again = home.hub("sync")  # room again: resume from the last committed state
        assert again.returncode == 0, again.stdout + again.stderr
        assert_raw_equals_world(engine, world, SOURCES)
        statuses = {status for _, status in run_statuses(engine)}  # after the next start: none running
        assert "running" not in statuses, statuses
    finally:
        engine.dispose()
    assert home.leftover_secrets() == []


def test_read_only_sqlite_warehouse_is_one_line_and_writes_nothing(tmp_path, server):
    path = tmp_path / "w.db"
    open_warehouse(f"sqlite:///{path}").dispose()
    home = make_home(tmp_path, server, f"sqlite:///file:{path}?mode=ro&uri=true", SOURCES)
    result = home.hub("sync")
    _no_traceback(result)
    assert result.returncode == 1
    assert len(output_lines(result)) == 1 and "readonly database" in result.stdout + result.stderr, output_lines(result)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_run)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(raw_record)).scalar_one() == 0
    engine.dispose()


@pytest.mark.postgres
def test_select_only_postgres_role_is_one_line_and_writes_nothing(tmp_path, server, request):
    from tests.conftest import _pg_schema_url

    url, admin, schema = _pg_schema_url(request.getfixturevalue("pg_database"))
    role = f"ro_{uuid.uuid4().hex[:10]}"
    try:
        open_warehouse(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
            conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        ro_url = make_url(url).set(username=role).render_as_string(hide_password=False)
        home = make_home(tmp_path, server, ro_url, SOURCES)
        result = home.hub("sync")
        _no_traceback(result)
        assert result.returncode == 1
        assert len(output_lines(result)) == 1 and "permission denied" in result.stdout + result.stderr, \
            output_lines(result)
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(sync_run)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(raw_record)).scalar_one() == 0
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
