"""A stream's SCHEMA message: is it usable, and the record of it the hub keeps.

Split off the Singer loader (connectors/landing.py) so that the judgement of a SCHEMA and the
``raw_stream`` row it leaves are read and tested on their own. ``raw_stream`` holds the latest
SCHEMA of every stream a source sent: the quarantine replay (connectors/replay.py) re-judges set-aside
records against it, and the unchanged-records offer (connectors/landed_prints.py) only trusts
streams whose SCHEMA has not moved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import Engine, delete, insert

from hub_core.schema import raw_stream


def schema_problem(schema: Any, keys: Any) -> str | None:
    """What makes a SCHEMA message unusable (None when it is usable): the schema must be a valid
    JSON Schema (draft 7) object and ``key_properties`` a list."""
    if not isinstance(schema, dict) or not isinstance(keys, list):
        return "schema must be an object and key_properties a list"
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None


def store_stream(engine: Engine, source: str, stream: str, keys: list, schema: dict, bookmarks: Any) -> None:
    """Replace the stream's ``raw_stream`` row with this SCHEMA (keys, schema, bookmarks)."""
    row = {
        "source": source,
        "stream": stream,
        "key_properties": orjson.dumps(keys).decode(),
        "json_schema": orjson.dumps(schema).decode(),
        "bookmark_properties": orjson.dumps(bookmarks if isinstance(bookmarks, list) else []).decode(),
        "updated_at": datetime.now(UTC),
    }
    with engine.begin() as conn:
        conn.execute(delete(raw_stream).where(raw_stream.c.source == source, raw_stream.c.stream == stream))
        conn.execute(insert(raw_stream), row)
