"""End to end through ``hub sync`` / ``hub runs`` / ``hub quarantine``: a real tap process
emitting injected malformed and drifted records; the run ends ``partial`` (exit code 0), each bad
payload is quarantined once, the drift is shown, replay after a policy fix lands the record."""

import json
import sys

import pytest
import yaml
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from hub_cli.main import app
from hub_core.schema import raw_record, raw_reject, sync_run

runner = CliRunner()

TAP = r'''
import json, sys
args = sys.argv[1:]
cfg = json.load(open(args[args.index("--config") + 1]))
schema = {"type": "object", "properties": {"id": {"type": "string"}, "day": {"type": "string", "format": "date"},
                                           "amount": {"type": "number"}}}
if "--discover" in args:
    print(json.dumps({"streams": [{"tap_stream_id": "orders", "stream": "orders", "schema": schema,
        "key_properties": ["id"], "metadata": [{"breadcrumb": [], "metadata": {}}]}]}))
    sys.exit(0)
print(json.dumps({"type": "SCHEMA", "stream": "orders", "schema": schema, "key_properties": ["id"]}))
for record in cfg["records"]:
    print(json.dumps({"type": "RECORD", "stream": "orders", "record": record}))
print(json.dumps({"type": "STATE", "value": {"done": len(cfg["records"])}}))
'''

RECORDS = [{"id": "A", "day": "2026-11-01", "amount": 1.5},
           {"id": "B", "day": "2026-11-31", "amount": 2},  # injected: no such date
           {"id": "C", "day": "2026-11-02", "amount": "3.50"}]  # injected: amount became text


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("COLUMNS", "250")
    import hub_cli.main  # its console was made at import, perhaps 80 wide: tables read whole here

    monkeypatch.setattr(hub_cli.main.console, "width", 250)
    tap = tmp_path / "tap-orders"
    tap.write_text("#!" + sys.executable + "\n" + TAP, encoding="utf-8")
    tap.chmod(0o755)
    sources = tmp_path / "c.yaml"
    source = {"command": [str(tap)], "config": {"records": RECORDS}}
    sources.write_text(yaml.safe_dump({"sources": {"erp": source}}))
    url = f"sqlite:///{tmp_path / 'w.db'}"

    def hub_cmd(*words):
        return runner.invoke(app, [*words, "--warehouse", url])

    return hub_cmd, sources, source, create_engine(url)


def flat(result) -> str:
    return " ".join(result.output.split())


def test_sync_quarantine_runs_and_replay(hub):
    hub_cmd, sources, source, engine = hub
    first = hub_cmd("sync", "--connectors", str(sources))
    assert first.exit_code == 0, first.output  # partial is not a failure
    assert "1 landed, 2 set aside (hub quarantine list -s erp)" in flat(first)
    second = hub_cmd("sync", "--connectors", str(sources))  # same bad payloads again
    assert second.exit_code == 0
    with engine.connect() as conn:
        runs = conn.execute(select(sync_run.c.status, sync_run.c.records_rejected, sync_run.c.records_quarantined,
                                   sync_run.c.drift_events).order_by(sync_run.c.id)).all()
        quarantined = conn.execute(select(raw_reject.c.record_key, raw_reject.c.seen_count)
                                   .order_by(raw_reject.c.record_key)).all()
    assert [tuple(r) for r in runs] == [("partial", 2, 2, 1), ("partial", 2, 0, 1)]
    assert [tuple(q) for q in quarantined] == [("B", 2), ("C", 2)]  # once each, seen twice

    shown = flat(hub_cmd("runs"))
    assert "partial" in shown and "Schema drift" in shown and "amount" in shown and "number → string" in shown

    listing = hub_cmd("quarantine", "list", "--source", "erp", "--reason", "drift")
    assert listing.exit_code == 0 and " C " in flat(listing) and " B " not in flat(listing)
    with engine.connect() as conn:
        c_id = conn.execute(select(raw_reject.c.id).where(raw_reject.c.record_key == "C")).scalar_one()
    detail = flat(hub_cmd("quarantine", "show", str(c_id)))
    assert '"amount": "3.50"' in detail and "declared number, came as string" in detail and "run 2" in detail
    assert hub_cmd("quarantine", "show", "999").exit_code == 1

    source["drift"] = {"streams": {"orders": {"type_change": "evolve"}}}  # the fix: accept the new type
    sources.write_text(yaml.safe_dump({"sources": {"erp": source}}))
    replayed = hub_cmd("quarantine", "replay", "--source", "erp", "--connectors", str(sources))
    assert replayed.exit_code == 1  # B still fails (a date that does not exist)
    assert "1 replayed and landed" in flat(replayed) and "still fails" in flat(replayed)
    with engine.connect() as conn:
        amount = conn.execute(select(raw_record.c.data).where(raw_record.c.record_key == "C")).scalar_one()
    assert json.loads(amount)["amount"] == "3.50"
    still = flat(hub_cmd("quarantine", "list"))
    assert " B " in still and " C " not in still
    assert " C " in flat(hub_cmd("quarantine", "list", "--status", "replayed"))
