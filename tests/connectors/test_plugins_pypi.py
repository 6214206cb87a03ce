"""Third-party connectors from PyPI, each in its own venv, land data through the hub.

``tap-jsonl`` (MeltanoLabs-style Singer tap, an older singer-sdk than ours) reads a file we
write; ``airbyte-source-faker`` (needs airbyte-cdk < 7, which our lock cannot hold) makes
deterministic fake users. Installed once per test session (uv's cache keeps it to seconds after
the first download).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub_core.schema import raw_record, raw_reject
from tests.conformance.harness import install_once, session_plugins_dir

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture
def plugins_env(monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS_DIR", str(session_plugins_dir()))


def _sync(tmp_path, sources: dict) -> tuple[str, object]:
    from hub_cli.main import app

    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(json.dumps({"sources": sources}), encoding="utf-8")
    warehouse = f"sqlite:///{tmp_path / 'w.db'}"
    result = runner.invoke(app, ["sync", "--connectors", str(connectors), "--warehouse", warehouse])
    return warehouse, result


def _rows(warehouse: str, table, source: str):
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(warehouse)
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.source == source)).all()
    engine.dispose()
    return rows


def test_hub_plugins_add_installs_a_singer_tap_that_lands_a_file(tmp_path, plugins_env):
    from hub_cli.main import app

    added = runner.invoke(app, ["plugins", "add", "tap-jsonl"])
    assert added.exit_code == 0, added.output
    assert "tap-jsonl" in runner.invoke(app, ["plugins", "list"]).output
    data = tmp_path / "customers.jsonl"
    data.write_text("".join(json.dumps({"id": i, "name": f"c{i}"}) + "\n" for i in range(1, 8)), encoding="utf-8")
    warehouse, result = _sync(tmp_path, {"files": {"plugin": "tap-jsonl", "config": {
        "path": str(data), "stream_name": "customers", "primary_keys": ["id"]}}})
    assert result.exit_code == 0, result.output
    rows = _rows(warehouse, raw_record, "files")
    assert sorted(r.record_key for r in rows) == [str(i) for i in range(1, 8)]
    assert {json.loads(r.data)["name"] for r in rows} == {f"c{i}" for i in range(1, 8)}


def test_an_airbyte_source_from_pypi_lands_with_its_state(tmp_path, plugins_env):
    install_once("source-faker")
    config = {"count": 4, "seed": 3, "records_per_slice": 2, "parallelism": 1, "always_updated": False}
    warehouse, result = _sync(tmp_path, {"fake": {"plugin": "source-faker", "config": config}})
    assert result.exit_code == 0, result.output
    rows = _rows(warehouse, raw_record, "fake")
    users = [r for r in rows if r.stream == "users"]
    assert sorted(int(r.record_key) for r in users) == [1, 2, 3, 4]  # keyed by the catalog's primary key
    # faker's purchases carry naive times their schema declares with a timezone: set aside, with why.
    rejects = _rows(warehouse, raw_reject, "fake")
    assert rejects and all(r.stream == "purchases" and "is not a 'date-time'" in r.reason for r in rejects)
    from connectors.landing import load_state
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(warehouse)
    state = load_state(engine, "fake")
    engine.dispose()
    assert "users" in state["airbyte"]["streams"]  # per-stream Airbyte state, handed back next time


def test_a_package_not_on_the_index_is_one_clear_line_and_leaves_nothing(tmp_path, monkeypatch):
    from hub_cli.main import app

    monkeypatch.setenv("HUB_PLUGINS_DIR", str(tmp_path))
    result = runner.invoke(app, ["plugins", "add", "tap-surely-not-on-pypi-h11x"])
    assert result.exit_code == 1 and "was not found in the package registry" in result.output
    assert not list((tmp_path / "tap-surely-not-on-pypi-h11x").glob("venv-*"))
    assert "no plugins installed" in runner.invoke(app, ["plugins", "list"]).output
