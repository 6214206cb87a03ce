"""``HubRecords`` (connectors/kit/records.py) writes the RECORD messages singer-sdk writes:
with every property selected, with some deselected, with and without type conformance."""

from __future__ import annotations

import contextlib
import io
import json
import typing as t

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from connectors.kit.records import HubRecords
from connectors.kit.writer import BatchedOutput

SCHEMA = th.PropertiesList(
    th.Property("id", th.IntegerType),
    th.Property("name", th.StringType),
    th.Property("active", th.BooleanType),
    th.Property("address", th.ObjectType(th.Property("city", th.StringType), th.Property("zip", th.StringType))),
).to_dict()

ROWS = [
    {"id": 1, "name": "甲", "active": 1, "address": {"city": "上海", "zip": "200000"}, "extra": "kept?"},
    {"id": 2, "name": "乙", "active": 0, "address": None},
]


def make_tap(hub: bool, level: TypeConformanceLevel) -> type[Tap]:
    bases: tuple[type, ...] = (HubRecords, Stream) if hub else (Stream,)

    class Rows(*bases):  # type: ignore[misc]
        name = "rows"
        schema = SCHEMA
        primary_keys = ("id",)
        TYPE_CONFORMANCE_LEVEL = level

        def get_records(self, context: t.Any) -> t.Iterable[dict]:
            for row in ROWS:
                yield json.loads(json.dumps(row))  # a fresh copy: the walk edits records in place

    tap_bases: tuple[type, ...] = (BatchedOutput, Tap) if hub else (Tap,)

    class RowsTap(*tap_bases):  # type: ignore[misc]
        name = "tap-rows"
        config_jsonschema = th.PropertiesList().to_dict()

        def discover_streams(self) -> list[Stream]:
            return [Rows(self)]

    return RowsTap


def records(hub: bool, level: TypeConformanceLevel, deselect: list[str]) -> list[dict]:
    tap_class = make_tap(hub, level)
    catalog = tap_class(config={}, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] and meta["breadcrumb"][-1] in deselect:
                meta["metadata"]["selected"] = False
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        tap_class(config={}, catalog=catalog, parse_env_config=False).sync_all()
    out = [json.loads(line) for line in buf.getvalue().splitlines()]
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in out if m["type"] == "RECORD"]


@pytest.mark.parametrize("level", [TypeConformanceLevel.NONE, TypeConformanceLevel.ROOT_ONLY,
                                   TypeConformanceLevel.RECURSIVE])
@pytest.mark.parametrize("deselect", [[], ["name"], ["zip"]])
def test_records_are_singer_sdks(level, deselect):
    ours = records(True, level, deselect)
    assert ours == records(False, level, deselect)
    assert len(ours) == 2
    assert ("name" in ours[0]["record"]) == ("name" not in deselect)  # the walk ran when it had to
    if level != TypeConformanceLevel.NONE:
        assert ours[0]["record"]["active"] is True  # conformed when the stream asks for it
    else:
        assert ours[0]["record"]["active"] == 1 and ours[0]["record"]["extra"] == "kept?"


def test_a_stream_syncing_alone_writes_every_record():
    tap_class = make_tap(True, TypeConformanceLevel.NONE)
    tap = tap_class(config={}, parse_env_config=False)
    stream = tap.streams["rows"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        stream.sync()
        stream.sync()  # the second pass changes no state: no STATE line flushes its records
    assert buf.getvalue().count('"type":"RECORD"') == 4
