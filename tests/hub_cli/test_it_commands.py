"""The commands IT uses day to day: connectors list|check|discover, sync --full-refresh, runs,
and the exit code of ``hub run`` when a source fails."""

import socket
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hub_cli.main import app
from simulators import credentials as c
from simulators.server import SimulatorServer
from tests.e2e.worlds import handmade_world
from tests.hub_cli.plain_tap import write_plain_tap

runner = CliRunner()


def table_rows(output: str) -> list[str]:
    """The rows of a rich table with spaces removed, each with its folded continuation lines
    joined back (a narrow console folds long cells onto further lines)."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        line = line.strip()
        if not (line.startswith("│") and line.endswith("│")):
            continue
        cells = [c.strip() for c in line[1:-1].split("│")]
        if cells[0].isdigit():
            rows.append(cells)
        elif rows:
            rows[-1] = [a + b for a, b in zip(rows[-1], cells)]
    return ["".join(cells).replace(" ", "") for cells in rows]


def flat(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def plain(tmp_path, monkeypatch):
    """A sources file with one plain Singer tap, a disabled one, and their warehouse."""
    monkeypatch.setenv("HUB_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("COLUMNS", "250")
    # the consoles were made at import, perhaps under another width: tables read whole here
    import hub_cli.connectors_cmd
    import hub_cli.main

    for module in (hub_cli.main, hub_cli.connectors_cmd):
        monkeypatch.setattr(module.console, "width", 250)
    tap = write_plain_tap(tmp_path / "tap-plain")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"sources": {
        "plain": {"command": [tap], "config": {"stream": "things"}},
        "off": {"command": [tap], "enabled": False},
    }}))
    return ["--connectors", str(path)], ["--warehouse", f"sqlite:///{tmp_path / 'w.db'}"]


def test_full_refresh_reads_everything_again_and_runs_show_it(plain):
    conn, wh = plain
    first = runner.invoke(app, ["sync", *conn, *wh])
    assert first.exit_code == 0 and "plain: 2 records read, 2 landed, 0 set aside" in flat(first)
    incremental = runner.invoke(app, ["sync", *conn, *wh])
    assert "plain: 0 records read" in flat(incremental)  # the saved state was passed to the tap
    full = runner.invoke(app, ["sync", "--full-refresh", "-s", "plain", *conn, *wh])
    assert full.exit_code == 0 and "plain: 2 records read" in flat(full)
    runs = runner.invoke(app, ["runs", *wh])
    assert runs.exit_code == 0
    rows = table_rows(runs.output)
    assert len(rows) == 3 and "succeeded(full)" in rows[0] and "(full)" not in rows[1]
    limited = runner.invoke(app, ["runs", "--limit", "1", "--source", "plain", *wh])
    assert len([line for line in limited.output.splitlines() if " plain " in line]) == 1
    disabled = runner.invoke(app, ["sync", "-s", "off", *conn, *wh])
    assert disabled.exit_code == 0 and "off: disabled in" in flat(disabled)
    none = runner.invoke(app, ["runs", "--source", "off", *wh])
    assert none.exit_code == 0 and "no sync runs yet for off" in flat(none)


def test_sync_progress_summary_counts_pages_and_waits_for_several_sources(plain, tmp_path):
    conn, wh = plain
    path = Path(conn[1])
    second = yaml.safe_load(path.read_text())
    second["sources"]["more"] = {"command": second["sources"]["plain"]["command"], "config": {"stream": "more"}}
    path.write_text(yaml.safe_dump(second))
    result = runner.invoke(app, ["sync", *conn, *wh])
    assert result.exit_code == 0, result.output
    summary = [line for line in result.output.splitlines() if line.startswith("│ more ")]
    cells = [cell.strip() for cell in summary[0].strip("│").split("│")]
    # source, status, read, landed, set aside, streams, pages, waits, time, rate
    assert cells[:8] == ["more", "succeeded", "2", "2", "0", "1", "1", "1"]


def test_connectors_list_shows_connector_enabled_and_last_run(plain):
    conn, wh = plain
    before = runner.invoke(app, ["connectors", "list", *conn, *wh])
    assert before.exit_code == 0
    assert [line.split("│")[4].strip() for line in before.output.splitlines() if "│ plain" in line] == ["never"]
    runner.invoke(app, ["sync", *conn, *wh])
    after = runner.invoke(app, ["connectors", "list", *conn, *wh])
    plain_row = next(line for line in after.output.splitlines() if "│ plain" in line)
    off_row = next(line for line in after.output.splitlines() if "│ off" in line)
    assert "succeeded" in plain_row and "│ yes" in plain_row
    assert "│ no " in off_row and "never" in off_row


def test_discover_prints_streams_keys_and_replication_keys(plain):
    conn, _ = plain
    result = runner.invoke(app, ["connectors", "discover", "-s", "plain", *conn])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "│ things" in line)
    assert [cell.strip() for cell in row.strip("│").split("│")] == ["things", "id", "INCREMENTAL", "id", "yes"]


def test_check_makes_a_real_token_call_and_prints_ok_or_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_LOG_DIR", str(tmp_path / "logs"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with SimulatorServer(handmade_world()) as server:
        crm = {"base_url": server.urls["crm"], "app_id": c.CRM.app_id, "app_secret": c.CRM.app_secret,
               "permanent_code": c.CRM.permanent_code, "current_open_user_id": c.CRM.current_open_user_id}
        wecom = {"base_url": server.urls["wecom"], "corpid": c.WECOM.corpid, "corpsecret": c.WECOM.corpsecret}
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump({"sources": {
            "crm": {"connector": "fxiaoke", "config": crm},
            "wecom_badcorp": {"connector": "wecom", "config": {**wecom, "corpid": "wwnope"}},
            "crm_down": {"connector": "fxiaoke", "config": {**crm, "base_url": f"http://127.0.0.1:{closed_port}"}},
            "crm_badsecret": {"connector": "fxiaoke", "config": {**crm, "app_secret": "not-the-secret"}},
        }}, sort_keys=False))
        ok = runner.invoke(app, ["connectors", "check", "-s", "crm", "--connectors", str(path)])
        everything = runner.invoke(app, ["connectors", "check", "--connectors", str(path)])
    assert ok.exit_code == 0 and ok.output.startswith("crm: OK (token call OK")
    lines = everything.output.splitlines()
    assert everything.exit_code == 1
    assert lines[1:] == [
        "wecom_badcorp: credentials rejected (40013) — check corpid",
        f"crm_down: connection refused at http://127.0.0.1:{closed_port} — check base_url and that the CRM is "
        "reachable",
        "crm_badsecret: credentials rejected (10006) — check app_secret",
    ]
    assert "not-the-secret" not in everything.output


@pytest.mark.slow
def test_hub_run_exits_1_when_a_source_fails_and_names_it(plain, tmp_path):
    conn, wh = plain
    path = Path(conn[1])
    conf = yaml.safe_load(path.read_text())
    conf["sources"]["broken"] = {"command": conf["sources"]["plain"]["command"],
                                 "config": {"fail": "tap.AuthError: HTTP 401 credentials refused"}}
    path.write_text(yaml.safe_dump(conf))
    result = runner.invoke(app, ["run", "--out", str(tmp_path / "out"), *conn, *wh])
    assert result.exit_code == 1, result.output
    assert "broken: failed — HTTP 401 credentials refused" in flat(result)
    assert "Traceback" not in result.output
