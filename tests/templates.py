"""Migrated warehouses to copy from, so that a test's empty warehouse costs milliseconds.

Migrating a fresh warehouse through Alembic costs 0.15-0.3 s on SQLite and 0.5-1 s on PostgreSQL
(measured here; mostly DDL compiled and run one statement at a time), and about a thousand tests
start from one. Each test process migrates once; a test then gets a copy: the SQLite file copied,
or on PostgreSQL the migrated schema's DDL (``pg_dump --schema-only``) replayed into the test's
own schema in one transaction (~0.2 s). The copy is the migrated schema itself, revision
included, so ``open_warehouse`` finds it at head. Tests of the migrations themselves
(tests/hub_core/test_warehouse.py: every table created, schema and migrations agree) migrate for
real through the ``warehouse_url`` fixture.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path


def migrated_sqlite(path: Path) -> Path:
    """Migrate a new SQLite warehouse at ``path`` and fold its write-ahead log into the file, so
    the file alone is the whole warehouse."""
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def copy_sqlite(template: Path, url: str) -> None:
    """Start the (empty) SQLite warehouse of ``url`` as a copy of the migrated template."""
    target = Path(url.removeprefix("sqlite:///"))
    if not target.exists():
        shutil.copyfile(template, target)


def migrated_postgres(database_url) -> tuple[str, str, str] | None:
    """Migrate a template schema in the session's database and return (its DDL, its name, its
    revision); None when pg_dump is missing or fails (then every test migrates)."""
    from sqlalchemy import create_engine, text

    from hub_core.warehouse import current_revision, open_warehouse

    schema = f"tpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = open_warehouse(_with_schema(database_url, schema))
    revision = current_revision(engine)
    engine.dispose()
    admin.dispose()
    dsn = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        dump = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-n", schema, dsn],
                              capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # psql meta-commands (\\restrict) and the schema's own CREATE are not for a plain connection
    ddl = "\n".join(line for line in dump.splitlines()
                    if not line.startswith("\\") and not line.startswith("CREATE SCHEMA "))
    return ddl, schema, revision


def replay_postgres(template: tuple[str, str, str] | None, url: str) -> None:
    """Create the migrated schema in the (empty) schema ``url`` points at, in one transaction."""
    if template is None:
        return
    import psycopg
    from sqlalchemy.engine import make_url

    ddl, name, revision = template
    parsed = make_url(url)
    schema = parsed.query["options"].removeprefix("-csearch_path=")
    dsn = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    body = re.sub(rf"\b{re.escape(name)}\b", schema, ddl)
    with psycopg.connect(dsn) as conn:  # commits on leaving
        conn.execute(body)
        conn.execute(f'INSERT INTO "{schema}".alembic_version (version_num) VALUES (%s)', (revision,))


def _with_schema(database_url, schema: str) -> str:
    return database_url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
