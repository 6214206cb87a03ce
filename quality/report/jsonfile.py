"""The JSON result files written item by item: a big world's lists are too long to hold as text.

``write_json_array`` writes exactly the bytes of ``json.dumps(list(items), ensure_ascii=False,
indent=1)``: with an indent, an array is ``[`` + each item on its own lines indented one level
deeper + ``]``; an item's own text (``json.dumps`` at the top level) only needs each of its line
breaks followed by one more space (a line break inside a string is always escaped as ``\\n``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=1)
_FLUSH = 1000  # items gathered before they are written


def write_json_array(path: Path, items: Iterable) -> int:
    """Write ``items`` to ``path`` (UTF-8) as ``json.dumps(..., ensure_ascii=False, indent=1)``
    would write the list of them; how many there were."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        buffer = []
        for item in items:
            buffer.append(("[\n " if count == 0 else ",\n ") + _ENCODER.encode(item).replace("\n", "\n "))
            count += 1
            if len(buffer) >= _FLUSH:
                out.write("".join(buffer))
                buffer.clear()
        buffer.append("\n]" if count else "[]")
        out.write("".join(buffer))
    return count
