"""Our taps speak Singer to third-party targets; the hub lands output of any Singer tap."""

import csv
import json
import subprocess
import sys
from pathlib import Path

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
    assert (result.status, result.landed, result.rejected) == ("partial", 2, 1)


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


def _script(path, body: str):
    path.write_text("#!" + sys.executable + "\nimport json, os, sys\nargs = sys.argv[1:]\n" + body)
    path.chmod(0o755)
    return str(path)


def test_taps_run_without_the_hubs_credentials_and_their_noise_is_redacted(tmp_path, engine, monkeypatch):
    monkeypatch.setenv("OTHER_APP_SECRET", "from-another-source")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    tap = _script(tmp_path / "tap-env", (
        "if '--discover' in args:\n    print(json.dumps({'streams': []}))\n    sys.exit(0)\n"
        "cfg = json.load(open(args[args.index('--config') + 1]))\n"
        "print('debug password=' + cfg['password'])\n"  # a non-Singer line carrying the secret
        "sys.stderr.write('env: ' + ' '.join(sorted(os.environ)) + '\\n')\nsys.exit(1)\n"))
    result = sync_source(engine, SourceConfig(name="envtap", command=[tap], config={"password": "pa55word!"}))
    assert result.status == "failed"
    assert "HARMLESS_SETTING" in result.error and "OTHER_APP_SECRET" not in result.error
    from sqlalchemy import select

    from hub_core.schema import raw_reject

    with engine.connect() as conn:
        assert conn.execute(select(raw_reject.c.data)).scalar_one() == "debug password=***"


def test_stream_selection_reaches_the_tap_and_unknown_streams_fail_clearly(tmp_path, engine):
    tap = _script(tmp_path / "tap-two", (
        "schema = {'type': 'object', 'properties': {'id': {'type': 'integer'}}}\n"
        "streams = [{'tap_stream_id': n, 'stream': n, 'schema': schema, 'key_properties': ['id'],\n"
        "            'metadata': [{'breadcrumb': [], 'metadata': {}}]} for n in ('a', 'b')]\n"
        "if '--discover' in args:\n    print(json.dumps({'streams': streams}))\n    sys.exit(0)\n"
        "catalog = json.load(open(args[args.index('--catalog') + 1]))\n"
        "for s in catalog['streams']:\n"
        "    if s['metadata'][0]['metadata'].get('selected'):\n"
        "        print(json.dumps({'type': 'SCHEMA', 'stream': s['stream'], 'schema': schema, 'key_properties': ['id']}))\n"
        "        print(json.dumps({'type': 'RECORD', 'stream': s['stream'], 'record': {'id': 1}}))\n"))
    chosen = sync_source(engine, SourceConfig(name="two", command=[tap], streams=["b"]))
    assert (chosen.status, list(chosen.per_stream)) == ("succeeded", ["b"])
    wrong = sync_source(engine, SourceConfig(name="two", command=[tap], streams=["nope"]))
    assert wrong.status == "failed" and "streams not offered by the tap: nope" in wrong.error
