"""The warehouse engine and its migrations: every stage reaches the database through here."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# A warehouse that does not answer should say so in seconds, not hang on the OS default.
PG_CONNECT_TIMEOUT_S = 10
_MAX_DB_MESSAGE = 200
# Set on every PostgreSQL connection of the warehouse (its own sessions only; the server's
# configuration is the operator's):
PG_SESSION = (
    # psycopg prepares statements run 5+ times (good: bulk inserts parse once), but a prepared
    # look-up may then get a generic plan that filters a whole stream against the key list
    # (measured ~150 ms a look-up at 30k rows against ~2 ms). Keep the preparation, plan each
    # execution for its parameters.
    "plan_cache_mode = force_custom_plan",
    # JIT compiles a statement costed over ``jit_above_cost`` (100k by default) to machine code
    # per execution: tens of ms of the server's time, more than it saves on the hub's statements,
    # which are costed high (large tables) but run in ~10-500 ms. An incremental build,
    # reconcile and report at 10k customers spent ~0.6 s less of summed server time with it off
    # (bench/findings.md, branches inc-run and inc-sql).
    "jit = off",
)


class WarehouseError(RuntimeError):
    """The warehouse URL is unusable or the database cannot be reached; a one-line message."""


def describe_db_error(exc: BaseException) -> str:
    """One short line for a database error: the driver's first line, never the SQL statement,
    its parameters or a PostgreSQL ``DETAIL`` (which quotes key values)."""
    from sqlalchemy.exc import DBAPIError, StatementError

    orig = getattr(exc, "orig", None) if isinstance(exc, (DBAPIError, StatementError)) else None
    text = str(orig if orig is not None else exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.split("[SQL:")[0].strip()
    if len(first) > _MAX_DB_MESSAGE:
        first = first[: _MAX_DB_MESSAGE - 1] + "…"
    name = type(exc).__name__  # SQLAlchemy's portable class (IntegrityError, ...), not the driver's
    return f"{name}: {first}" if first else name


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://", 1)[0] + "://…" if "://" in url else "(unparsable URL)"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL journaling."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise WarehouseError(f"warehouse URL {safe_url(url)!r} is not a database URL "
                             "(e.g. sqlite:///hub-data/warehouse.db or postgresql+psycopg://user@host/db)") from None
    # hide_parameters: a failing statement must never echo record data or secrets into messages.
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(f"warehouse {safe_url(url)}: cannot create its folder ({exc.strerror})") from None
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    try:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise WarehouseError(f"warehouse URL {safe_url(url)!r}: no driver for it ({exc}); "
                             "use sqlite:/// or postgresql+psycopg://") from None
    if parsed.get_backend_name() == "postgresql":

        @event.listens_for(engine, "connect")
        def _session_settings(dbapi_conn, _record):  # pragma: no cover - trivial
            with dbapi_conn.cursor() as cur:
                for setting in PG_SESSION:
                    cur.execute(f"SET {setting}")
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
    runner = _sqlite_transactional(engine) if engine.dialect.name == "sqlite" else engine
    try:
        with runner.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if runner is not engine:
            runner.dispose()


def _sqlite_transactional(engine: Engine) -> Engine:
    """An engine for migrating a SQLite warehouse in ONE transaction. The sqlite3 driver commits
    each CREATE/ALTER on its own, so a hub killed mid-migration left tables without a recorded
    revision and every later start failed ("table ... already exists"). Here the driver does no
    transaction control and every transaction is an explicit BEGIN IMMEDIATE: SQLite's DDL is
    transactional, so a killed migration leaves nothing behind."""
    from sqlalchemy.pool import NullPool

    runner = create_engine(engine.url, connect_args={"timeout": 30}, hide_parameters=True, poolclass=NullPool)

    @event.listens_for(runner, "connect")
    def _no_driver_transactions(dbapi_conn, _record):  # pragma: no cover - trivial
        dbapi_conn.isolation_level = None

    @event.listens_for(runner, "begin")
    def _begin(conn):  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return runner


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the warehouse is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


@functools.cache
def head_revision() -> str | None:
    """The migrations' one head, read from the version files' ``revision`` / ``down_revision``
    lines: the revision no other names as its parent. None when the files do not say it plainly
    (several heads, a line Alembic would compute): then only Alembic itself can tell."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(found) != 1 or len(down) != 1:
            return None
        revisions.add(found[0])
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down[0]))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the warehouse already records the head revision. Every command and test opens the
    warehouse, and Alembic's own check (import, load every migration file, compare) cost ~0.4-0.7
    CPU s a process; one ``SELECT`` answers the common case. A connection that fails raises (the
    caller's one-line error); a missing ``alembic_version`` table, a stale or an ambiguous head
    answer False and Alembic upgrades as before."""
    from sqlalchemy.exc import DBAPIError

    head = head_revision()
    if head is None:
        return False
    with engine.connect() as conn:
        try:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        except DBAPIError:
            return False
    return versions == [head]


def open_warehouse(url: str) -> Engine:
    """An engine on an up-to-date warehouse; an unreachable or unusable one raises
    :class:`WarehouseError` with a one-line message (no statement, no parameters)."""
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(url)
    try:
        if not _at_head(engine):
            upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise WarehouseError(f"warehouse {safe_url(url)} cannot be used: {describe_db_error(exc)}") from exc
    return engine
