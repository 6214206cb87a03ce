"""A migration that dies half-way leaves the warehouse as it was: the next start migrates cleanly."""

import pytest
from sqlalchemy import inspect

from hub_core.warehouse import make_engine, open_warehouse, upgrade


def test_a_sqlite_migration_failing_half_way_leaves_no_table_behind(tmp_path, monkeypatch):
    from alembic.operations import Operations

    url = f"sqlite:///{tmp_path / 'w.db'}"
    real = Operations.create_table
    calls = {"n": 0}

    def dying_create_table(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # as if the hub were killed after three tables
            raise RuntimeError("killed mid-migration")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_table", dying_create_table)
    engine = make_engine(url)
    with pytest.raises(RuntimeError):
        upgrade(engine)
    assert calls["n"] == 4
    assert inspect(engine).get_table_names() == []  # the three created tables were rolled back
    engine.dispose()
    monkeypatch.setattr(Operations, "create_table", real)
    engine = open_warehouse(url)  # the next start migrates from scratch
    assert "raw_record" in inspect(engine).get_table_names()
    engine.dispose()
