"""A SCHEMA message's judgement and the raw_stream row it leaves (connectors/stream_schemas.py)."""

import json

from sqlalchemy import select

from connectors.stream_schemas import schema_problem, store_stream
from hub_core.schema import raw_stream


def test_schema_problem_names_what_is_wrong():
    assert schema_problem({"type": "object", "properties": {"id": {"type": "string"}}}, ["id"]) is None
    assert schema_problem("not a schema", ["id"]) == "schema must be an object and key_properties a list"
    assert schema_problem({"type": "object"}, "id") == "schema must be an object and key_properties a list"
    assert "is not valid" in schema_problem({"type": "no-such-type"}, ["id"])


def test_store_stream_keeps_the_latest_schema_only(engine):
    first = {"type": "object", "properties": {"id": {"type": "string"}}}
    second = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
    store_stream(engine, "crm", "AccountObj", ["id"], first, ["updated"])
    store_stream(engine, "crm", "AccountObj", ["id"], second, "not a list")
    store_stream(engine, "crm", "ContactObj", ["id"], first, None)
    with engine.connect() as conn:
        rows = conn.execute(select(raw_stream).where(raw_stream.c.source == "crm").order_by(raw_stream.c.stream)).all()
    assert [r.stream for r in rows] == ["AccountObj", "ContactObj"]
    assert json.loads(rows[0].json_schema) == second
    assert json.loads(rows[0].bookmark_properties) == []  # not a list: none declared
    assert json.loads(rows[0].key_properties) == ["id"]
