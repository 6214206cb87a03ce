"""Every connector passes the same suite: config validation, check, discover, full read,
incremental read from a future state, unique non-null keys, records valid against their schema.

The connectors are the data in tests/conformance/cases.py (one line each). Everything runs
through the hub's real code paths: the connector's own process (Singer tap, Airbyte source,
manifest) started by the hub's runners, landed by the hub's loader into a SQLite warehouse.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest
from jsonschema import Draft7Validator, FormatChecker
from sqlalchemy import insert, select

from connectors.airbyte_runner import validate_config
from connectors.check import check_source
from connectors.plugins.config_check import config_schema
from connectors.singer_runner import secret_values
from connectors.sync import sync_source
from hub_core.schema import raw_record, raw_stream, sync_state
from tests.conformance.cases import CASES
from tests.conformance.harness import futurize, incremental_streams, source_config

# Each test starts the connector's own processes (1-4 of them, seconds each): the suite is slow.
pytestmark = pytest.mark.slow

PARAMS = [pytest.param(case, id=case.id, marks=case.marks) for case in CASES]


def _with(source, **config):
    return source.model_copy(update={"config": {**source.config, **config}})


def _without(source, field):
    return source.model_copy(update={"config": {k: v for k, v in source.config.items() if k != field}})


def _discover(source) -> dict[str, dict]:
    """{stream: JSON schema} as the connector discovers it (Singer catalog or Airbyte catalog)."""
    if source.kind == "airbyte":
        from connectors.airbyte_runner import source_process

        return {s["name"]: s["json_schema"] for s in source_process(source, timeout_s=300).discover()["streams"]}
    from connectors.singer_runner import TapProcess

    catalog = TapProcess(source.tap_command(), source.config, timeout_s=300).discover()
    return {s.get("tap_stream_id") or s["stream"]: s["schema"] for s in catalog["streams"]}


@pytest.mark.parametrize("case", PARAMS)
def test_config_validation_names_what_is_wrong(case, conformance_env, tmp_path):
    source = source_config(case, conformance_env)
    spec = {"connectionSpecification": config_schema(source)}
    assert validate_config(spec, source.config) == []
    if case.required is None:
        pytest.skip("the connector has no required config field")
    problems = validate_config(spec, _without(source, case.required).config)
    assert f"config: '{case.required}' is a required property" in problems
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    failed = sync_source(engine, _without(source, case.required))
    assert failed.status == "failed" and "\n" not in failed.error
    assert case.required in failed.error  # the one line names what is missing
    engine.dispose()


@pytest.mark.parametrize("case", PARAMS)
def test_check_accepts_the_config_and_refuses_a_wrong_one(case, conformance_env):
    source = source_config(case, conformance_env)
    ok = check_source(source)
    assert ok.ok, ok.message
    if case.wrong is None:
        return
    bad = check_source(_with(source, **{case.wrong: "wrong-value-for-the-check"}))
    assert not bad.ok and bad.message and "\n" not in bad.message
    if secret_values({case.wrong: "wrong-value-for-the-check"}):  # a secret never shows in an error
        assert "wrong-value-for-the-check" not in bad.message


@pytest.mark.parametrize("case", PARAMS)
def test_discover_offers_streams_with_object_schemas(case, conformance_env):
    schemas = _discover(source_config(case, conformance_env))
    assert schemas
    for name, schema in schemas.items():
        Draft7Validator.check_schema(schema)
        assert "object" in (schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]), name
        assert schema.get("properties"), name


@pytest.mark.parametrize("case", PARAMS)
def test_full_read_lands_every_record_once_and_keeps_a_state(case, full_reads):
    read = full_reads(case)
    result = read.result
    assert result.status == "succeeded", result.error
    assert result.landed > 0 and result.rejected == 0
    for stream, counts in result.per_stream.items():
        # Every record landed: none rejected, none folded into another with the same key.
        assert counts["landed"] == counts["seen"], (stream, counts)


@pytest.mark.parametrize("case", PARAMS)
def test_keys_unique_non_null_and_records_valid_against_their_schema(case, full_reads):
    read = full_reads(case)
    assert read.result.status == "succeeded", read.result.error
    with read.engine.connect() as conn:
        streams = {r.stream: r for r in conn.execute(select(raw_stream).where(raw_stream.c.source == case.id))}
        rows = conn.execute(select(raw_record.c.stream, raw_record.c.record_key, raw_record.c.data)
                            .where(raw_record.c.source == case.id)).all()
    assert rows
    seen: set[tuple[str, str]] = set()
    for stream, key, data in rows:
        assert (stream, key) not in seen, f"{stream}: key {key} twice"
        seen.add((stream, key))
        record = json.loads(data)
        for prop in json.loads(streams[stream].key_properties):
            assert record.get(prop) not in (None, ""), f"{stream}: key property {prop} empty"
        schema = json.loads(streams[stream].json_schema)
        errors = list(Draft7Validator(schema, format_checker=FormatChecker()).iter_errors(record))
        assert not errors, f"{stream}/{key}: {errors[0].message}"


@pytest.mark.parametrize("case", PARAMS)
def test_incremental_read_from_a_future_state_returns_nothing_new(case, full_reads, tmp_path):
    read = full_reads(case)
    assert read.result.status == "succeeded", read.result.error
    future = (case.future or futurize)(read.state or {})
    moved = incremental_streams(read.state, future)  # none for a connector with full-table streams only
    from hub_core.warehouse import open_warehouse

    copy = tmp_path / "copy.db"
    with sqlite3.connect(read.db) as original, sqlite3.connect(copy) as target:
        original.backup(target)  # the committed data, WAL included
    engine = open_warehouse(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(sync_state.delete().where(sync_state.c.source == case.id))
        conn.execute(insert(sync_state), {"source": case.id, "state": json.dumps(future), "updated_at": datetime.now(UTC)})
    again = sync_source(engine, read.source)
    engine.dispose()
    assert again.status == "succeeded", again.error
    assert again.landed == 0, again.per_stream
    for stream in moved if not case.rereads else ():
        assert (again.per_stream or {}).get(stream, {}).get("seen", 0) == 0, (stream, again.per_stream)

