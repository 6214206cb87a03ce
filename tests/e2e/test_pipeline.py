"""End to end: simulators -> taps -> landing -> customer-360 -> R1 -> result files."""

import json

import pytest

from hub_cli.demo import SOURCE_NAMES, demo_sources
from orchestration.run import run_pipeline
from simulators.server import SimulatorServer
from tests.e2e.worlds import EXPECTED_R1, NOW, handmade_world

# one warm tap launcher for the module's pipeline runs (each run would start its own)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]


def run_world(tmp_path, world, warehouse_url, monkeypatch):
    with SimulatorServer(world) as server:
        sources, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps(sources), encoding="utf-8")  # JSON is valid YAML
        as_of = server.world.now
        result = run_pipeline(warehouse_url, str(connectors), str(tmp_path / "out"), SOURCE_NAMES, as_of=as_of)
    assert result.success, result.failures
    return result, json.loads((tmp_path / "out" / "discrepancies.json").read_text(encoding="utf-8"))


def test_handmade_world_gives_expected_r1_on_both_backends(tmp_path, warehouse_url, monkeypatch):
    result, items = run_world(tmp_path, handmade_world(), warehouse_url, monkeypatch)
    r1 = {i["refs"][0]: (i["severity"], i["amount_cny"]) for i in items if i["rule"] == "R1"}
    assert r1 == EXPECTED_R1
    o2 = next(i for i in items if i["refs"][0] == "crm:NewOpportunityObj:O2")
    assert (o2["owner"], o2["region"], o2["customer_name"], o2["status"]) == ("王芳", "华东大区", "苏州百川贸易有限公司", "open")
    assert o2["first_seen"].startswith("2026-11-20T09:00:00")
    customers = json.loads((tmp_path / "out" / "customers.json").read_text(encoding="utf-8"))
    groups = sorted(sorted(c["refs"]) for c in customers)
    assert groups == [
        ["crm:AccountObj:A1", "u8:customer:U001"],
        ["crm:AccountObj:A2", "finance:credit_rating:U002", "u8:customer:U002"],
        ["crm:AccountObj:A3", "u8:customer:U003"],
    ]
    for name in ("report.md", "report.html", "report.xlsx"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "苏州百川贸易有限公司" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert result.metadata["raw_crm"]["status"] == "succeeded"


def test_a_failing_source_does_not_stop_the_others(tmp_path, monkeypatch):
    world = handmade_world()
    with SimulatorServer(world) as server:
        sources, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HUB_DEMO_WECOM_CORPSECRET", "wrong-secret-value")
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps(sources), encoding="utf-8")
        result = run_pipeline(f"sqlite:///{tmp_path / 'w.db'}", str(connectors), str(tmp_path / "out"),
                              SOURCE_NAMES, as_of=NOW)
    assert result.metadata["raw_wecom"]["status"] == "failed"
    assert result.metadata["raw_crm"]["status"] == "succeeded"
    items = json.loads((tmp_path / "out" / "discrepancies.json").read_text(encoding="utf-8"))
    assert {i["refs"][0] for i in items if i["rule"] == "R1"} == set(EXPECTED_R1)
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| ")}
    from quality.report.i18n import messages

    m = messages()  # the digest speaks the default language
    assert f"| {m('status.failed')} |" in rows["wecom"] and f"| {m('status.succeeded')} |" in rows["crm"]
    assert f"| {m('kpi.new')} | {len(items)} |" in report  # the first run: every open item is new
    assert "wrong-secret-value" not in report
    # WeCom failed: it is stale, and the rules that read it (R7, R10, R11) are held back.
    assert list(result.stale_sources) == ["wecom"] and not result.success
    assert "wrong-secret-value" not in str(result.stale_sources)
    assert not {i["rule"] for i in items} & {"R7", "R10", "R11"}


def test_generated_world_matches_truth_on_both_backends(tmp_path, warehouse_url, monkeypatch):
    from simulators.generator import generate

    world, truth = generate(11, customers=30)
    _, items = run_world(tmp_path, world, warehouse_url, monkeypatch)
    # every rule R1-R11: the same items (by anchor), severities and amounts as the generator's oracle
    found = {(i["rule"], i["refs"][0], i["severity"], i["amount_cny"]) for i in items}
    expected = {(i["rule"], i["refs"][0], i["severity"], i["amount_cny"]) for i in truth["discrepancies"]}
    assert len({rule for rule, *_ in expected}) >= 9  # a small world: most rules occur (all at 200 customers)
    assert found == expected


def test_step_by_step_cli_sync_build_report(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hub_cli.main import app

    runner = CliRunner()
    warehouse = f"sqlite:///{tmp_path / 'w.db'}"
    with SimulatorServer(handmade_world()) as server:
        sources, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps(sources), encoding="utf-8")
        synced = runner.invoke(app, ["sync", "--connectors", str(connectors), "--warehouse", warehouse])
        assert synced.exit_code == 0, synced.output
        assert "crm:" in synced.output and "landed" in synced.output
    built = runner.invoke(app, ["build", "--warehouse", warehouse])
    assert built.exit_code == 0 and "3 customers" in built.output
    reported = runner.invoke(app, ["report", "--out", str(tmp_path / "out"), "--warehouse", warehouse,
                                   "--as-of", NOW.isoformat()])
    assert reported.exit_code == 0, reported.output
    items = json.loads((tmp_path / "out" / "discrepancies.json").read_text(encoding="utf-8"))
    assert {i["refs"][0]: (i["severity"], i["amount_cny"]) for i in items if i["rule"] == "R1"} == EXPECTED_R1
    # No WeCom message in the world: every customer with recent won deals is R10 (sum of those deals);
    # O6 was last modified exactly 72 h before T: yellow, not orange (strict thresholds).
    assert {i["refs"][0]: i["amount_cny"] for i in items if i["rule"] == "R10"} == {
        "crm:AccountObj:A1": "150000.00", "crm:AccountObj:A2": "110000.00", "crm:AccountObj:A3": "250000.00"}
    assert {i["refs"][0]: i["severity"] for i in items if i["rule"] == "R7"} == {"crm:NewOpportunityObj:O6": "yellow"}
