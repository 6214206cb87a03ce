"""`hub demo` against generated worlds finds exactly what truth.json says (R1, customer groups)."""

import json

import pytest
from typer.testing import CliRunner

from hub_cli.main import app

# one warm tap launcher for the module's four `hub demo` runs (each run would start its own)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def r1_of(items):
    return {(i["refs"][0], i["severity"], i["amount_cny"]) for i in items if i["rule"] == "R1"}


def groups_of(customers):
    return {frozenset(r for r in c["refs"] if not r.startswith("wecom:")) for c in customers}


def test_demo_matches_truth_and_a_fresh_dir_starts_clean(tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert "R1" in first.output and "discrepancies.json" in first.output
    out = tmp_path / "a"
    truth = load(out / "truth.json")
    found = load(out / "discrepancies.json")
    assert r1_of(found) == r1_of(truth["discrepancies"])
    assert len(r1_of(found)) >= 2
    assert groups_of(load(out / "customers.json")) == {frozenset(g) for g in truth["same_customer"]}

    second = runner.invoke(app, ["demo", "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    again = load(tmp_path / "b" / "discrepancies.json")
    assert again == found  # same world, fresh warehouse: the same findings

    rerun = runner.invoke(app, ["demo", "--out", str(out)])  # same folder: same warehouse
    assert rerun.exit_code == 0, rerun.output
    assert load(out / "discrepancies.json") == found  # first_seen kept, nothing duplicated
    report = (out / "report.md").read_text(encoding="utf-8")
    from quality.report.i18n import messages

    assert f"| {messages()('kpi.new')} | 0 |" in report  # the digest speaks the default language
    import sqlite3

    with sqlite3.connect(out / "warehouse.db") as db:
        landed = dict(db.execute("select source, records_landed from sync_run where id > 4").fetchall())
    assert landed == {"crm": 0, "u8": 0, "finance": 0, "wecom": 0}


def test_demo_serves_a_given_world_file(tmp_path):
    from tests.e2e.worlds import EXPECTED_R1, handmade_world

    world = tmp_path / "my-world.json"
    world.write_text(json.dumps(handmade_world(), ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--world", str(world), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    found = load(tmp_path / "out" / "discrepancies.json")
    assert {i["refs"][0]: (i["severity"], i["amount_cny"]) for i in found if i["rule"] == "R1"} == EXPECTED_R1
    assert not (tmp_path / "out" / "truth.json").exists()


def test_demo_rejects_a_broken_world_file(tmp_path):
    world = tmp_path / "broken.json"
    world.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--world", str(world), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "broken.json" in " ".join(result.output.split())
