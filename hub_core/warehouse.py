"""The warehouse engine and its migrations: every stage reaches the database through here."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL journaling."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":

        @event.listens_for(engine, "connect")
        def _custom_plans(dbapi_conn, _record):  # pragma: no cover - trivial
            # psycopg prepares statements run 5+ times (good: bulk inserts parse once), but a
            # prepared look-up may then get a generic plan that filters a whole stream against
            # the key list (measured ~150 ms a look-up at 30k rows against ~2 ms). Keep the
            # preparation, plan each execution for its parameters.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_custom_plan")
            dbapi_conn.commit()

    return engine


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation: escape it (URLs carry %-encoded options).
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the warehouse schema with Alembic (never ``create_all``)."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the warehouse is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def open_warehouse(url: str) -> Engine:
    """An engine on an up-to-date warehouse."""
    engine = make_engine(url)
    upgrade(engine)
    return engine
