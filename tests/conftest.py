"""Shared fixtures: a fresh warehouse per test on SQLite and on PostgreSQL.

PostgreSQL tests use one uniquely named database per test session (dropped at the end) and a
fresh schema per test. They skip when no server answers, unless HUB_REQUIRE_POSTGRES=1 (CI),
in which case they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("HUB_REQUIRE_POSTGRES") == "1"


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any connection failure means "not available"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_database():
    """A uniquely named PostgreSQL database for this test session, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    reason = _pg_reachable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HUB_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_ADMIN_URL).set(database=name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_schema_url(pg_database):
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_database.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), engine, schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """A URL of an empty warehouse, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    from sqlalchemy import text

    url, admin, schema = _pg_schema_url(request.getfixturevalue("pg_database"))
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(warehouse_url, request):
    """An engine on a migrated, empty warehouse. The schema comes from a warehouse migrated once
    per test process (tests/templates.py): a copy costs milliseconds where migrating costs
    0.15-1 s, and most tests take this fixture. ``open_warehouse`` still runs and checks the
    revision. Migrations themselves are tested through ``warehouse_url`` (tests/hub_core)."""
    from hub_core.warehouse import open_warehouse
    from tests import templates

    if warehouse_url.startswith("sqlite:///"):
        templates.copy_sqlite(request.getfixturevalue("_migrated_sqlite"), warehouse_url)
    else:
        templates.replay_postgres(request.getfixturevalue("_migrated_postgres"), warehouse_url)
    eng = open_warehouse(warehouse_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory):
    """A SQLite warehouse migrated once per test process (the template of ``engine``)."""
    from tests import templates

    return templates.migrated_sqlite(tmp_path_factory.mktemp("template") / "warehouse.db")


@pytest.fixture(scope="session")
def _migrated_postgres(pg_database):
    """The schema of a PostgreSQL warehouse migrated once per test process, as DDL (the template
    of ``engine``), or None where pg_dump cannot give it (then each test migrates)."""
    from tests import templates

    return templates.migrated_postgres(pg_database)


@pytest.fixture(scope="module")
def warm_tap_launcher():
    """Built-in taps of the module's tests fork from one warm launcher (connectors/warm_taps.py)
    instead of a fresh interpreter each: the suite's time, not the tested behaviour - the tap is
    still its own process speaking Singer to the hub's loader, as under ``hub run``. For modules
    whose subject is the data a sync lands, not how a tap process starts (the exec'd path keeps
    its own tests: tests/connectors, tests/faults, tests/hub_cli). A pipeline run inside the block
    (``run_pipeline``, ``hub demo``) shares this launcher instead of starting its own."""
    from connectors import warm_taps

    with warm_taps.session():
        yield
