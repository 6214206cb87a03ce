"""A record's key and content hash as the hub's loader computes them, in one place for both sides.

The loader (connectors/admission.py) keys and versions every landed record with these; a tap that
skips records the hub already holds (connectors/kit/unchanged.py) must compute exactly the same
values, so both import them from here (the kit imports nothing outside itself).
"""

from __future__ import annotations

import hashlib
import typing as t

import orjson


def record_hash(record: dict) -> str:
    """A stable content hash; Singer metadata columns (``_sdc_*``) do not count as content."""
    content = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_key(record: dict, key_properties: t.Sequence[str]) -> str:
    """The record's natural key as text: the key value, or key values joined by ``|`` (the
    content hash without key properties); ``ValueError`` when a key property is missing."""
    if not key_properties:
        return record_hash(record)
    parts = []
    for prop in key_properties:
        value = record.get(prop)
        if value is None or value == "":
            raise ValueError(f"key property {prop!r} is missing")
        parts.append(str(value))
    return "|".join(parts)
