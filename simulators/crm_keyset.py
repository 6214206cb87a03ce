"""Keyset pages of the CRM simulator without a scan of the whole object per page.

Connectors page a CRM object by ``_id``: ``filters: [{_id GT <last id>}]``, ``orders: [{_id
asc}]``. Answered by filtering and heap-selecting every record, each page costs O(records), so
reading an object of N records costs O(N^2 / page): at 93k activity records that was about a
minute of simulator CPU per read, paid alike by the hub, the bare client and the dlt peer.

:class:`KeysetIndex` keeps, per object and order field, the records sorted by the simulator's
own sort key (:func:`simulators.crm._sort_key`, stable like ``heapq.nsmallest``), and answers a
page whose single ascending order field also carries a ``GT`` / ``GTE`` filter on a text value
by bisecting to the first record past the key. The answer is the one the scan gives (same
rows, order and ``total``); anything else falls back to the scan.

The index is rebuilt when the object's record list is replaced or changes length. It assumes
the order field of a record is not edited in place (records are otherwise free to change:
other filters are applied to the rows past the key, which are read live).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

_PLAIN = (str, int, float, type(None))  # value kinds whose sort key agrees with GT / GTE on text


def _to_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class KeysetIndex:
    """Records of each object sorted by an order field; see the module docstring."""

    def __init__(self, sort_key: Callable[[str], Callable[[dict[str, Any]], tuple[Any, ...]]]) -> None:
        self._sort_key = sort_key
        self._sorted: dict[tuple[str, str], tuple[int, int, list | None, list]] = {}

    def _ordered(self, name: str, field: str, records: list[dict[str, Any]]) -> tuple[list | None, list]:
        """(sorted keys, sorted records); keys None when a value kind rules the index out."""
        cached = self._sorted.get((name, field))
        if cached is not None and cached[:2] == (id(records), len(records)):
            return cached[2], cached[3]
        if all(type(r.get(field)) in _PLAIN for r in records):
            key = self._sort_key(field)
            keys = [key(r) for r in records]
            order = sorted(range(len(records)), key=keys.__getitem__)
            entry = ([keys[i] for i in order], [records[i] for i in order])
        else:  # lists and booleans match GT by element / as text: no single order agrees
            entry = (None, [])
        self._sorted[(name, field)] = (id(records), len(records), *entry)
        return entry

    def page(
        self,
        name: str,
        records: list[dict[str, Any]],
        filters: list[Any],
        predicates: list[Callable[[dict[str, Any]], bool]],
        orders: Any,
        count: int,
    ) -> tuple[list[dict[str, Any]], int] | None:
        """(the first ``count`` matching records in order, how many match), or None when this
        query is not a keyset page (the caller scans). ``filters`` are validated already and
        ``predicates`` are their compiled tests, in the same order."""
        if not (isinstance(orders, list) and len(orders) == 1 and isinstance(orders[0], dict)):
            return None
        field = orders[0].get("fieldName")
        if not isinstance(field, str) or orders[0].get("isAsc", True) is not True:
            return None
        at = [i for i, f in enumerate(filters) if f.get("field_name") == field]
        if len(at) != 1 or filters[at[0]].get("operator") not in ("GT", "GTE"):
            return None
        values = filters[at[0]].get("field_values")
        if len(values) != 1 or not values[0] or _to_float(values[0]) is not None:
            return None  # numeric text compares numbers numerically: not the text order
        keys, rows = self._ordered(name, field, records)
        if keys is None:
            return None
        probe = (2, values[0])
        start = (bisect.bisect_right if filters[at[0]]["operator"] == "GT" else bisect.bisect_left)(keys, probe)
        others = [p for i, p in enumerate(predicates) if i != at[0]]
        if not others:
            return rows[start:start + count], len(rows) - start
        matched = [r for r in rows[start:] if all(p(r) for p in others)]
        return matched[:count], len(matched)
