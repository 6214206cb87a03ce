"""PostgreSQL kills the hub's connection mid-load (``pg_terminate_backend`` from a second
connection while ``hub sync`` lands): the open batch rolls back, the source fails in one line
(or the hub recovers), nothing is left ``running``, and a rerun makes the raw tables exact and
the unified tables equal an uninterrupted run. The moment comes from ``HUB_FAULT_SEED``."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from hub_core.warehouse import open_warehouse
from tests.faults.harness import (
    TRIALS,
    assert_raw_equals_world,
    make_home,
    rng,
    run_statuses,
    snapshot_diff,
    unified_snapshot,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: The hub's backends in the middle of a landing transaction (last statement on the raw tables).
LANDING = text("""
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state IN ('active', 'idle in transaction')
      AND query !~* '^\\s*(create|alter|drop)'
      AND (query ILIKE '%raw_record%' OR query ILIKE '%sync_state%' OR query ILIKE '%raw_reject%')
""")


def terminate_trial(tmp_path, pg_database, ref, trial):
    from tests.conftest import _pg_schema_url

    url, admin, schema = _pg_schema_url(pg_database)
    watcher = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    try:
        open_warehouse(url).dispose()  # migrated first: the fault hits landing, not the schema's creation
        home = make_home(tmp_path, ref.server, url, ref.sources)
        # trial 0 (the CI sample) strikes the first landing transaction it sees: a sync of this small
        # world can land everything within a random delay of up to 1 s, and then there is nothing
        # left to terminate; the long variants draw the moment from HUB_FAULT_SEED.
        delay = 0.0 if trial == 0 else rng("pg-terminate", trial).uniform(0.0, 1.0)
        proc = home.start("sync")
        with watcher.connect() as conn:
            assert wait_for(lambda: conn.execute(LANDING).scalars().all(), timeout=120, step=0.01), \
                "the hub never landed anything"
            wait_for(lambda: proc.poll() is not None, timeout=delay)  # then the next landing transaction
            victims = wait_for(lambda: conn.execute(LANDING).scalars().all() or proc.poll() is not None,
                               timeout=60, step=0.005)
            killed = [pid for pid in (victims if isinstance(victims, list) else [])
                      if conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()]
        out, err = proc.communicate(timeout=300)
        assert "Traceback" not in out + err
        print(out + err)
        if killed and proc.returncode:
            failed = [line for line in (out + err).splitlines()
                      if line.split(":")[0] in ref.sources and "failed" in line]
            # Each terminated backend fails its own source alone; sources sync at once on
            # PostgreSQL (``hub sync --parallel``), so two landing at that moment both fail.
            assert 1 <= len(failed) <= len(killed), out + err
        again = home.hub("sync")
        assert again.returncode == 0, again.stdout + again.stderr
        engine = create_engine(url)
        try:
            statuses = {s for _, s in run_statuses(engine)}
            assert statuses <= {"succeeded", "failed"}, statuses
            assert_raw_equals_world(engine, ref.world, ref.sources)
            assert snapshot_diff(unified_snapshot(engine, ref.server.world.now), ref.unified) == {}
        finally:
            engine.dispose()
        return bool(killed)
    finally:
        watcher.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_connection_terminated_mid_load_rolls_back_and_a_rerun_is_exact(tmp_path, pg_database, reference):
    assert terminate_trial(tmp_path, pg_database, reference, 0), "no landing backend was terminated"


@pytest.mark.faults_long
@pytest.mark.parametrize("trial", range(1, TRIALS + 1))
def test_connection_terminated_at_many_points(tmp_path, pg_database, reference, trial):
    terminate_trial(tmp_path, pg_database, reference, trial)
