import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from hub_cli.main import app

runner = CliRunner()
HEAVY = ("dagster", "singer_sdk", "great_expectations", "airbyte_cdk", "sqlalchemy", "fastapi")


def test_help_loads_no_heavy_library():
    code = f"import sys, hub_cli.main; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "generate", "simulate", "sync", "build", "report", "run", "runs", "connectors"):
        assert command in result.output


def test_bad_as_of_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--as-of", "yesterday",
                                 "--warehouse", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code != 0
    assert "not an ISO time" in " ".join(result.output.split())


def test_missing_sources_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["sync", "--connectors", str(tmp_path / "nope.yaml"),
                                 "--warehouse", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert "not found" in " ".join(result.output.split())


def test_sources_file_with_unset_secret_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = tmp_path / "connectors.yaml"
    path.write_text("sources:\n  crm:\n    connector: fxiaoke\n    config: {app_secret: '${NOT_SET_ANYWHERE}'}\n")
    result = runner.invoke(app, ["sync", "--connectors", str(path), "--warehouse", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert "NOT_SET_ANYWHERE is not set" in " ".join(result.output.split())


def test_generate_writes_world_and_truth(tmp_path):
    result = runner.invoke(app, ["generate", "--seed", "3", "--customers", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    world = json.loads((tmp_path / "world.json").read_text(encoding="utf-8"))
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert set(world) >= {"meta", "crm", "u8", "finance", "wecom"}
    assert "discrepancies" in truth and "same_customer" in truth


def test_simulate_serves_a_world_file_until_stopped(tmp_path):
    import socket
    import time

    import httpx

    from simulators import credentials as c
    from tests.e2e.worlds import handmade_world

    world = tmp_path / "world.json"
    world.write_text(json.dumps(handmade_world(), ensure_ascii=False), encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).parent / "hub"), "simulate", "--world", str(world),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                reply = httpx.get(f"{base}/wecom/cgi-bin/gettoken",
                                  params={"corpid": c.WECOM.corpid, "corpsecret": c.WECOM.corpsecret})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("simulator did not start")
        assert reply.json()["errcode"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_unknown_source_name_is_an_error(tmp_path):
    path = tmp_path / "connectors.yaml"
    path.write_text("sources:\n  crm:\n    connector: fxiaoke\n")
    result = runner.invoke(app, ["sync", "--source", "crn", "--connectors", str(path),
                                 "--warehouse", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1 and "no such source" in " ".join(result.output.split())


def _plain_tap(path: Path, stream: str) -> str:
    path.write_text(
        "#!" + sys.executable + "\nimport json, sys\n"
        "schema = {'type': 'object', 'properties': {'id': {'type': 'integer'}}}\n"
        f"s = {{'tap_stream_id': {stream!r}, 'stream': {stream!r}, 'schema': schema, 'key_properties': ['id'],"
        " 'metadata': [{'breadcrumb': [], 'metadata': {}}]}\n"
        "if '--discover' in sys.argv:\n    print(json.dumps({'streams': [s]}))\n    sys.exit(0)\n"
        f"print(json.dumps({{'type': 'SCHEMA', 'stream': {stream!r}, 'schema': schema, 'key_properties': ['id']}}))\n"
        f"print(json.dumps({{'type': 'RECORD', 'stream': {stream!r}, 'record': {{'id': 1}}}}))\n")
    path.chmod(0o755)
    return str(path)


def test_sync_honours_source_choice_and_disabled_sources_then_reconcile_and_migrate(tmp_path):
    import yaml

    conf = {"sources": {
        "one": {"command": [_plain_tap(tmp_path / "tap-one", "ones")]},
        "two": {"command": [_plain_tap(tmp_path / "tap-two", "twos")]},
        "off": {"command": [_plain_tap(tmp_path / "tap-off", "offs")], "enabled": False},
    }}
    path = tmp_path / "connectors.yaml"
    path.write_text(yaml.safe_dump(conf))
    wh = f"sqlite:///{tmp_path / 'w.db'}"
    only = runner.invoke(app, ["sync", "--source", "two", "--connectors", str(path), "--warehouse", wh])
    assert only.exit_code == 0, only.output
    assert "two:" in only.output and "one:" not in only.output
    both = runner.invoke(app, ["sync", "--connectors", str(path), "--warehouse", wh])
    assert "one:" in both.output and "off:" not in both.output
    assert runner.invoke(app, ["migrate", "--warehouse", wh]).output.strip().startswith("warehouse at revision")
    rec = runner.invoke(app, ["reconcile", "--warehouse", wh, "--as-of", "2026-11-20T09:00:00+08:00"])
    assert rec.exit_code == 0 and re.search(r"R1\s*│\s*0\s*│", rec.output), rec.output
    some = runner.invoke(app, ["reconcile", "--warehouse", wh, "--rules", "r3,R1"])
    assert some.exit_code == 0 and re.search(r"R3\s*│", some.output) and not re.search(r"R5\s*│", some.output)
    bad = runner.invoke(app, ["reconcile", "--warehouse", wh, "--rules", "R99"])
    assert bad.exit_code != 0 and "unknown rule 'R99'" in bad.output
