"""The tap runner: inputs through pipes (never on disk), the failing line, metrics, catalogs."""

import json

import pytest

from connectors.check import describe_streams, unreachable
from connectors.singer_runner import TapError, TapProcess, final_error, parse_metric
from tests.hub_cli.plain_tap import write_plain_tap


def test_config_catalog_and_state_reach_the_tap_through_pipes_not_files(tmp_path, monkeypatch):
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    report = tmp_path / "report.jsonl"
    tap = TapProcess([write_plain_tap(tmp_path / "tap")], {"report": str(report), "token": "s3cret-x"})
    catalog = tap.discover()
    lines = []
    tap.run(catalog, {"bookmarks": {"things": {"id": 2}}}, lambda it: lines.extend(it))
    seen = [json.loads(line) for line in report.read_text().splitlines()]
    assert [s["discover"] for s in seen] == [True, False] and seen[1]["state"] is True
    assert all(s["fifo"] and s["path"].startswith("/dev/fd/") for s in seen)
    assert list(private_tmp.iterdir()) == []
    assert b'"STATE"' in lines[-1]


def test_a_failing_tap_reports_its_last_exception_line_redacted(tmp_path):
    tap = TapProcess([write_plain_tap(tmp_path / "tap")],
                     {"fail": "pkg.AuthError: secret s3cret-x was refused", "password": "s3cret-x"})
    with pytest.raises(TapError) as caught:
        tap.run(None, None, lambda it: list(it))
    assert str(caught.value) == "tap sync failed (exit 1): pkg.AuthError: secret *** was refused"
    assert "Traceback" in caught.value.detail and "s3cret-x" not in caught.value.detail


def test_a_tap_that_cannot_start_is_a_tap_error(tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("x")
    with pytest.raises(TapError, match="could not be started"):
        TapProcess([str(script)], {}).discover()


def test_final_error_prefers_the_exception_line_then_error_logs():
    trace = ["Traceback (most recent call last):\n", '  File "x", line 1\n', "a.b.FooError: it broke\n", "\n"]
    assert final_error(trace) == "a.b.FooError: it broke"
    logged = ["2026-11-30 11:31:16,868 | ERROR    | tap-x | cannot reach the API\n", "bye\n"]
    assert final_error(logged) == "cannot reach the API"
    assert final_error(["just text\n"]) == "just text" and final_error([]) == ""


def test_parse_metric_reads_singer_sdk_metric_lines():
    line = ('2026-11-30 11:31:16,879 | INFO | singer_sdk.metrics | METRIC: {"type":"counter",'
            '"metric":"http_request_count","value":1,"tags":{"stream":"AccountObj"}}')
    assert parse_metric(line)["tags"]["stream"] == "AccountObj"
    assert parse_metric("METRIC: {broken") is None and parse_metric("hello") is None


def test_describe_streams_reads_entry_fields_and_sdk_metadata():
    catalog = {"streams": [
        {"tap_stream_id": "a", "key_properties": ["id"], "replication_key": "updated", "metadata": []},
        {"tap_stream_id": "b", "metadata": [{"breadcrumb": [], "metadata": {
            "table-key-properties": ["code"], "valid-replication-keys": ["ts"], "selected-by-default": False}}]},
        {"stream": "c", "replication_method": "FULL_TABLE", "metadata": []},
    ]}
    info = {s.name: s for s in describe_streams(catalog)}
    assert (info["a"].key_properties, info["a"].replication_keys, info["a"].replication_method) == \
        (["id"], ["updated"], "INCREMENTAL")
    assert (info["b"].key_properties, info["b"].replication_keys, info["b"].selected_by_default) == \
        (["code"], ["ts"], False)
    assert (info["c"].key_properties, info["c"].replication_method) == ([], "FULL_TABLE")


def test_unreachable_tells_refused_and_unknown_hosts_in_a_moment():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        assert "Connection refused" in unreachable(f"http://127.0.0.1:{port}/crm")
    assert "Name or service not known" in unreachable("http://no-such-host.invalid/x")
    assert unreachable(None) is None and unreachable("not a url") is None
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert unreachable(f"http://127.0.0.1:{server.getsockname()[1]}") is None


