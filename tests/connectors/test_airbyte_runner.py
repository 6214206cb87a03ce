"""The Airbyte runner: protocol translation, per-stream state round trip, atomic commits, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.airbyte_runner import (
    AirbyteError,
    AirbyteSource,
    configured_catalog,
    key_properties,
    merge_state,
    state_for_source,
    validate_config,
)
from connectors.landing import load_state
from connectors.plugins.registry import _write
from connectors.sources import SourceConfig
from connectors.sync import sync_source
from hub_core.schema import raw_record

FAKE = Path(__file__).with_name("fake_airbyte_source.py")


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """``source-fake`` recorded in a plugins registry as if `hub plugins add` had installed it."""
    base = tmp_path / "plugins"
    venv = base / "source-fake" / "venv-1"
    (venv / "bin").mkdir(parents=True)
    exe = venv / "bin" / "source-fake"
    exe.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(FAKE)!r}, run_name='__main__')\n")
    exe.chmod(0o755)
    _write(base, {"source-fake": {"name": "source-fake", "kind": "airbyte", "pip_url": "x", "executable": "source-fake",
                                  "venv": str(venv), "installed_at": "now"}})
    monkeypatch.setenv("HUB_PLUGINS_DIR", str(base))
    return exe


def _source(**config) -> SourceConfig:
    return SourceConfig(name="fake", plugin="source-fake", config={"count": 5, **config})


def _records(engine, stream):
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.record_key, raw_record.c.data)
                            .where(raw_record.c.source == "fake", raw_record.c.stream == stream)).all()
    return {key: json.loads(data) for key, data in rows}


def test_merge_state_keeps_one_entry_per_stream_and_global_and_legacy():
    a1 = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}}}
    b1 = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "b", "namespace": "ns"}, "stream_state": {"c": 7}}}
    a2 = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 2}}}
    state = merge_state(merge_state(merge_state(None, a1), b1), a2)
    assert state_for_source({"airbyte": state}) == [a2, b1]
    glob = {"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": []}}
    assert state_for_source({"airbyte": merge_state(state, glob)}) == [glob]
    assert state_for_source({"airbyte": merge_state(None, {"data": {"x": 1}})}) == {"x": 1}
    assert state_for_source(None) is None and state_for_source({"bookmarks": {}}) is None


def test_configured_catalog_is_incremental_where_supported_and_refuses_unknown_streams():
    catalog = {"streams": [
        {"name": "u", "supported_sync_modes": ["full_refresh", "incremental"], "default_cursor_field": ["t"],
         "source_defined_primary_key": [["id"]]},
        {"name": "e", "supported_sync_modes": ["full_refresh"]},
    ]}
    configured = configured_catalog(catalog, None)["streams"]
    assert [(s["sync_mode"], s["cursor_field"], s["destination_sync_mode"]) for s in configured] == [
        ("incremental", ["t"], "append_dedup"), ("full_refresh", [], "append")]
    assert [s["stream"]["name"] for s in configured_catalog(catalog, ["e"])["streams"]] == ["e"]
    with pytest.raises(AirbyteError, match="not offered by the source: nope"):
        configured_catalog(catalog, ["nope"])
    assert key_properties([["a"], ["b"]]) == ["a", "b"]
    with pytest.raises(AirbyteError, match="nested primary key a.b"):
        key_properties([["a", "b"]])


def test_validate_config_names_the_field_without_its_value():
    spec = {"connectionSpecification": {"type": "object", "required": ["token"],
                                        "properties": {"port": {"type": "integer"}}}}
    problems = validate_config(spec, {"port": "s3cr3t-ish"})
    assert problems == ["config: 'token' is a required property", "port: must satisfy type 'integer'"]


def test_spec_check_discover_through_a_plugin(fake_plugin):
    process = AirbyteSource([str(fake_plugin)], {"count": 1})
    assert process.spec()["connectionSpecification"]["required"] == ["count"]
    process.check()
    assert [s["name"] for s in process.discover()["streams"]] == ["users", "events"]
    assert any("config from /dev/fd/" in line for line in process.tail)  # never a file on disk
    with pytest.raises(AirbyteError, match="check failed: wrong password"):
        AirbyteSource([str(fake_plugin)], {"count": 1, "fail_check": True}).check()


@pytest.mark.parametrize("state_type", ["STREAM", "GLOBAL", "LEGACY"])
def test_sync_lands_with_catalog_keys_and_hands_the_state_back(engine, fake_plugin, state_type):
    first = sync_source(engine, _source(state_type=state_type))
    assert first.status == "succeeded", first.error
    assert set(_records(engine, "users")) == {"1", "2", "3", "4", "5"}
    assert set(_records(engine, "events")) == {"d1|0", "d1|1", "d1|2"}  # composite key from the catalog
    stored = load_state(engine, "fake")
    assert state_for_source(stored)  # the per-stream (or global / legacy) state is kept
    # The next read starts from the stored state: only users updated since come again.
    again = sync_source(engine, _source(state_type=state_type, count=7))
    assert again.status == "succeeded", again.error
    assert again.per_stream["users"]["seen"] == 2 and again.per_stream["users"]["landed"] == 2
    # ... and an incremental read is no whole pass: the users it did not re-read stay live
    with engine.connect() as conn:
        assert not conn.execute(select(raw_record.c.record_key).where(
            raw_record.c.source == "fake", raw_record.c.stream == "users",
            raw_record.c.deleted_at.is_not(None))).all()
    # A full refresh ignores the state.
    full = sync_source(engine, _source(state_type=state_type, count=7), full_refresh=True)
    assert full.per_stream["users"]["seen"] == 7


def test_a_trace_error_fails_in_one_line_and_keeps_only_committed_state(engine, fake_plugin):
    result = sync_source(engine, _source(count=9, trace_after=5, secret="hunter22"))
    assert result.status == "failed"
    assert "API said no" in result.error and "hunter22" not in result.error and "\n" not in result.error
    # Records before the TRACE landed; the state says only what was committed with it (4: the
    # last STATE before the error), so the next sync re-reads record 5 onwards.
    assert set(_records(engine, "users")) == {"1", "2", "3", "4", "5"}
    assert state_for_source(load_state(engine, "fake"))[0]["stream"]["stream_state"] == {"updated_at": 4}
    retry = sync_source(engine, _source(count=9))
    assert retry.status == "succeeded" and retry.per_stream["users"]["seen"] == 5


def test_a_missing_plugin_fails_alone_with_the_fix(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_PLUGINS_DIR", str(tmp_path / "none"))
    result = sync_source(engine, SourceConfig(name="ghost", plugin="source-ghost"))
    assert result.status == "failed" and "hub plugins add source-ghost" in result.error
