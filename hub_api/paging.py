"""Keyset pagination with opaque cursors: a page continues after the last row's sort key, so pages
stay stable and cheap however deep one goes. A cursor is base64url JSON of that key; a tampered
cursor can only move within the rows the caller's scope already allows."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Annotated

from fastapi import HTTPException, Query

Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page.")]
Cursor = Annotated[str | None, Query(max_length=1000, description="`next_cursor` of the previous page.")]


def encode(kind: str, values: list) -> str:
    """The cursor after a row whose sort key is ``values``."""
    payload = [kind] + [v.isoformat() if isinstance(v, date) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode("ascii").rstrip("=")


def decode(kind: str, cursor: str, types: list[type]) -> list:
    """The sort key a cursor carries, checked against the expected ``types``; 422 otherwise."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        if not isinstance(raw, list) or len(raw) != len(types) + 1 or raw[0] != kind:
            raise ValueError
        values = []
        for value, typ in zip(raw[1:], types):
            if typ is datetime:
                value = datetime.fromisoformat(value)
            elif typ is date:
                value = date.fromisoformat(value)
            elif typ is int:
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**63 - 1:
                    raise ValueError
            elif not isinstance(value, typ) or "\x00" in value:
                raise ValueError
            else:
                value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
            values.append(value)
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(422, [{"loc": ["query", "cursor"], "msg": "not a cursor of this listing",
                                   "type": "value_error"}]) from None
