"""Our taps speak Singer to third-party targets; the hub lands output of any Singer tap."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.sources import SourceConfig
from connectors.sync import sync_source
from simulators import credentials as c
from simulators.server import SimulatorServer
from tests.e2e.worlds import handmade_world

BIN = Path(sys.executable).parent


def crm_config(server) -> dict:
    return {"base_url": server.urls["crm"], "app_id": c.CRM.app_id, "app_secret": c.CRM.app_secret,
            "permanent_code": c.CRM.permanent_code, "current_open_user_id": c.CRM.current_open_user_id}


def test_tap_fxiaoke_output_is_accepted_by_target_csv_from_pypi(tmp_path):
    tap_cfg, target_cfg, out = tmp_path / "tap.json", tmp_path / "target.json", tmp_path / "csv"
    out.mkdir()
    target_cfg.write_text(json.dumps({"output_path": str(out), "file_naming_scheme": "{stream_name}.csv"}))
    with SimulatorServer(handmade_world()) as server:
        tap_cfg.write_text(json.dumps(crm_config(server)))
        tap = subprocess.Popen([BIN / "tap-fxiaoke", "--config", tap_cfg], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        target = subprocess.run([BIN / "target-csv", "--config", target_cfg], stdin=tap.stdout,
                                capture_output=True, text=True, timeout=120)
        tap.stdout.close()
        assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, target.stderr[-2000:]
    with open(out / "NewOpportunityObj.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["_id"] for r in rows) == ["O1", "O2", "O3", "O4", "O5", "O6", "O7"]
    with open(out / "AccountObj.csv", encoding="utf-8") as fh:
        assert {r["name"] for r in csv.DictReader(fh)} >= {"苏州百川贸易有限公司"}


def test_hub_runs_any_singer_tap_executable(tmp_path, engine):
    """A third-party style tap (a plain script speaking Singer, needing a catalog) lands too."""
    script = tmp_path / "tap-plain"
    script.write_text(
        "#!" + sys.executable + "\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "schema = {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'day': {'type': 'string', 'format': 'date'}}}\n"
        "if '--discover' in args:\n"
        "    print(json.dumps({'streams': [{'tap_stream_id': 'things', 'stream': 'things', 'schema': schema,\n"
        "        'key_properties': ['id'], 'metadata': [{'breadcrumb': [], 'metadata': {}}]}]}))\n"
        "    sys.exit(0)\n"
        "catalog = json.load(open(args[args.index('--catalog') + 1]))\n"
        "assert catalog['streams'][0]['metadata'][0]['metadata']['selected'] is True\n"
        "print(json.dumps({'type': 'SCHEMA', 'stream': 'things', 'schema': schema, 'key_properties': ['id']}))\n"
        "for i, d in [(1, '2026-01-01'), (2, 'bad'), (3, '2026-01-03')]:\n"
        "    print(json.dumps({'type': 'RECORD', 'stream': 'things', 'record': {'id': i, 'day': d}}))\n"
        "print(json.dumps({'type': 'STATE', 'value': {'done': True}}))\n"
    )
    script.chmod(0o755)
    result = sync_source(engine, SourceConfig(name="plain", command=[str(script)], config={"token": "s3cret"}))
    assert (result.status, result.landed, result.rejected) == ("succeeded", 2, 1)


def test_failing_tap_error_is_reported_without_secrets(tmp_path, engine):
    script = tmp_path / "tap-leaky"
    script.write_text("#!" + sys.executable + "\nimport sys, json\n"
                      "cfg = json.load(open(sys.argv[sys.argv.index('--config') + 1]))\n"
                      "sys.stderr.write('auth failed for secret ' + cfg['client_secret'] + '\\n')\nsys.exit(3)\n")
    script.chmod(0o755)
    result = sync_source(engine, SourceConfig(name="leaky", command=[str(script)],
                                              config={"client_secret": "TOPSECRET-123"}))
    assert result.status == "failed"
    assert "TOPSECRET-123" not in result.error and "***" in result.error


def test_a_hung_tap_is_stopped_after_its_timeout(tmp_path, engine):
    script = tmp_path / "tap-hangs"
    script.write_text("#!" + sys.executable + "\nimport sys, time\n"
                      "if '--discover' in sys.argv:\n    print('{\"streams\": []}')\n    sys.exit(0)\n"
                      "print('{\"type\": \"STATE\", \"value\": {}}', flush=True)\ntime.sleep(60)\n")
    script.chmod(0o755)
    source = SourceConfig(name="slow", command=[str(script)], config={}, timeout_minutes=0.02)
    result = sync_source(engine, source)
    assert result.status == "failed" and "timed out" in result.error and "stopped" in result.error
