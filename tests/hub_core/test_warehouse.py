import pytest
from sqlalchemy import inspect

from hub_core.schema import metadata
from hub_core.warehouse import current_revision, open_warehouse, upgrade


def test_migrations_create_every_table_and_rerun_cleanly(warehouse_url):
    engine = open_warehouse(warehouse_url)
    assert current_revision(engine) is not None
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    upgrade(engine)  # a second upgrade is a no-op, not an error
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()


def test_fresh_database_has_no_revision(tmp_path):
    from hub_core.warehouse import make_engine

    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")) is None


def test_schema_and_migrations_agree(warehouse_url):
    """Every change to schema.py needs a migration: autogenerate must find nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = open_warehouse(warehouse_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("warehouse_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgresql_sessions_plan_per_execution_without_jit(warehouse_url):
    """Every pooled PostgreSQL connection runs with the warehouse's session settings (``PG_SESSION``)."""
    from sqlalchemy import text

    from hub_core.warehouse import make_engine

    engine = make_engine(warehouse_url)
    with engine.connect() as first, engine.connect() as second:  # two connections of the pool
        for conn in (first, second):
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
    engine.dispose()


def test_head_read_from_the_files_is_alembics_head():
    """``open_warehouse`` skips Alembic when the warehouse records this head: it must be Alembic's."""
    from alembic.script import ScriptDirectory

    from hub_core.warehouse import _alembic_config, head_revision, make_engine

    engine = make_engine("sqlite://")
    assert head_revision() == ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    engine.dispose()


def test_a_warehouse_behind_head_is_still_upgraded_on_open(warehouse_url):
    """The quick check only spares Alembic at head: a warehouse one revision behind is upgraded."""
    from alembic.script import ScriptDirectory

    from hub_core.warehouse import _alembic_config, head_revision

    engine = open_warehouse(warehouse_url)
    previous = ScriptDirectory.from_config(_alembic_config(engine)).get_revision(head_revision()).down_revision
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, previous)
    assert current_revision(engine) == previous
    engine.dispose()
    engine = open_warehouse(warehouse_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
