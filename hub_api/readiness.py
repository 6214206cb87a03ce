"""Open the warehouse the API serves, refusing one that is missing or not migrated.

The API never creates or migrates a warehouse: starting against a mistyped path used to create an
empty database and report healthy. ``hub migrate`` creates and upgrades; the API only reads it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url


class WarehouseNotReady(RuntimeError):
    """The warehouse is missing, unreachable or not at the schema this code expects."""


def head_revision() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    from hub_core.warehouse import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def open_existing_warehouse(url: str) -> Engine:
    """An engine on an existing warehouse at the current schema, or ``WarehouseNotReady``."""
    from sqlalchemy.exc import SQLAlchemyError

    from hub_core.warehouse import current_revision, make_engine

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise WarehouseNotReady(f"warehouse {shown}: an in-memory SQLite database has no data to serve")
        if not Path(parsed.database).is_file():
            raise WarehouseNotReady(f"warehouse {shown} does not exist; create it with `hub migrate` (and fill it "
                                    "with `hub sync` and `hub build`)")
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseNotReady(f"warehouse {shown} is not reachable: {reason}") from None
    head = head_revision()
    if revision is None:
        engine.dispose()
        raise WarehouseNotReady(f"warehouse {shown} has no hub schema; run `hub migrate` first")
    if revision != head:
        engine.dispose()
        raise WarehouseNotReady(f"warehouse {shown} is at schema revision {revision}, this hub needs {head}; "
                                "run `hub migrate`")
    return engine
