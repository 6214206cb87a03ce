"""``hub simulate-u8db``: a world file into U8's tables, and clear one-line refusals."""

import json

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from hub_cli.main import app
from tests.e2e.worlds import handmade_world

runner = CliRunner()


def test_simulate_u8db_writes_the_tables(tmp_path):
    world = tmp_path / "world.json"
    world.write_text(json.dumps(handmade_world(), ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'u8.db'}"
    result = runner.invoke(app, ["simulate-u8db", "--world", str(world), "--url", url])
    assert result.exit_code == 0, result.output
    assert "Customer: 3 rows" in result.output and "SO_SOMain: 3 rows" in result.output
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text('SELECT "cCusName" FROM "Customer" WHERE "cCusCode" = \'U002\'')).scalar() == "百川贸易"
    engine.dispose()


def test_simulate_u8db_refuses_a_bad_world_in_one_line(tmp_path):
    data = handmade_world()
    data["u8"]["saleorderlist"][0]["date"] = "2026-13-45"
    world = tmp_path / "world.json"
    world.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["simulate-u8db", "--world", str(world), "--url", f"sqlite:///{tmp_path / 'u8.db'}"])
    assert result.exit_code == 1
    assert "1 world values do not fit U8's columns: u8.saleorderlist[SO1].date: '2026-13-45' is not a date" in result.output
    missing = runner.invoke(app, ["simulate-u8db", "--world", str(tmp_path / "nope.json"), "--url", "sqlite://"])
    assert missing.exit_code == 1 and "world file not found" in missing.output
