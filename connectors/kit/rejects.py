"""The hub's Singer convention for records a tap had to set aside.

A tap writes them to the stream :data:`REJECT_STREAM` as ``{"stream", "record_key", "reason",
"data"}``; the hub's loader lands them in ``raw_reject`` (reason and counts per stream), any other
target lands them as an ordinary table. One writer for every tap, so the shape never drifts.
"""

from __future__ import annotations

import json
import typing as t

from singer_sdk import singerlib as singer

REJECT_STREAM = "_rejects"
REJECT_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "stream": {"type": "string"},
        "record_key": {"type": ["string", "null"]},
        "reason": {"type": "string"},
        "data": {},
    },
    "required": ["stream", "reason"],
}


class RejectWriter:
    """Writes records to :data:`REJECT_STREAM` (its SCHEMA once per tap run) and counts them."""

    def __init__(self, tap: t.Any) -> None:
        self.tap = tap
        self.schema_written = False
        self.count = 0

    def write(self, stream: str, key: str | None, reason: str, data: t.Any) -> None:
        """One set-aside record (or file) of ``stream`` with its reason; the data is copied
        JSON-safe (Decimals and dates become their exact text)."""
        if not self.schema_written:
            self.tap.write_message(singer.SchemaMessage(REJECT_STREAM, REJECT_SCHEMA, [], None))
            self.schema_written = True
        record = {"stream": stream, "record_key": key, "reason": reason,
                  "data": json.loads(json.dumps(data, default=str, ensure_ascii=False))}
        self.tap.write_message(singer.RecordMessage(stream=REJECT_STREAM, record=record))
        self.count += 1
