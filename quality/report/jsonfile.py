"""The JSON result files written item by item: a big world's lists are too long to hold as text.

``write_json_array`` writes exactly the bytes of ``json.dumps(list(items), ensure_ascii=False,
indent=1)``: with an indent, an array is ``[`` + each item on its own lines indented one level
deeper + ``]``; an item's own text (``json.dumps`` at the top level) only needs each of its line
breaks followed by one more space (a line break inside a string is always escaped as ``\\n``).

The items of both files (discrepancies.json, customers.json) are flat objects - strings, numbers,
null, booleans, lists of those - and ``json``'s indenting encoder is pure Python: :func:`encode`
writes such an object itself from the C string encoder (about 3x faster; 19k items of a
10k-customer report: ~0.25 -> ~0.08 s of CPU) and hands anything else to ``json``. Tested byte
for byte against ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring  # the C one where there is one (as json uses it)
from pathlib import Path

_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=1)
_INF = float("inf")
_FLUSH = 1000  # items gathered before they are written


def write_json_array(path: Path, items: Iterable) -> int:
    """Write ``items`` to ``path`` (UTF-8) as ``json.dumps(..., ensure_ascii=False, indent=1)``
    would write the list of them; how many there were."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        buffer = []
        for item in items:
            buffer.append(("[\n " if count == 0 else ",\n ") + encode(item).replace("\n", "\n "))
            count += 1
            if len(buffer) >= _FLUSH:
                out.write("".join(buffer))
                buffer.clear()
        buffer.append("\n]" if count else "[]")
        out.write("".join(buffer))
    return count


def _scalar(value) -> str | None:
    """``value`` as json writes it, for exactly str, int, float (finite), None, True, False; else None."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and -_INF < value < _INF:
        return float.__repr__(value)
    return None


def encode(item) -> str:
    """``json.dumps(item, ensure_ascii=False, indent=1)``: made here for a flat object (str keys;
    values scalars or lists of scalars), by ``json`` for anything else."""
    if type(item) is not dict or not item:
        return _ENCODER.encode(item)
    parts = []
    for key, value in item.items():
        text = _scalar(value)
        if text is None:
            if type(value) is not list:
                return _ENCODER.encode(item)
            if value:
                inner = [_scalar(v) for v in value]
                if None in inner:
                    return _ENCODER.encode(item)
                text = "[\n  " + ",\n  ".join(inner) + "\n ]"
            else:
                text = "[]"
        if type(key) is not str:
            return _ENCODER.encode(item)
        parts.append(f"{encode_basestring(key)}: {text}")
    return "{\n " + ",\n ".join(parts) + "\n}"
