"""The simulators' reads over compact objects (``simulators/compact.py``): same answers, no scan
that decodes the object per page.

Over plain lists the simulators filter and sort Python dicts on every call. Over a compact
object that would decompress and decode every record per page, so each read here works on the
object's light fields: sorted orders (stable, as ``sorted`` and ``heapq.nsmallest`` are) and
the positions a filter matches are computed once and kept in ``records.cache`` (emptied by any
write), and only the records of the page are decoded. Each function documents the plain-list
code it answers like; ``tests/simulators/test_sim_compact.py`` compares them page by page.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from typing import Any

from simulators.compact import MISSING, CompactRecords

_MAX_CACHED = 24  # filter results kept per object (a sync pages through one filter at a time)


def _cached(records: CompactRecords, key: Any, make: Callable[[], Any]) -> Any:
    value = records.cache.get(key)
    if value is None:
        if len(records.cache) >= _MAX_CACHED:
            for old in [k for k in records.cache if k[0] == "match"][: _MAX_CACHED // 2]:
                del records.cache[old]
        value = records.cache[key] = make()
    return value


def _sorted(records: CompactRecords, name: str, key: Callable[[dict], Any]) -> tuple[list, list[int]]:
    """(keys ascending, positions) of the records by ``key`` of their light fields, stable."""
    def make() -> tuple[list, list[int]]:
        keys = [key(records.light_dict(i)) for i in range(len(records))]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return [keys[i] for i in order], order
    return _cached(records, ("sorted", name), make)


def _matching(records: CompactRecords, fields: set[str], tests: list[Callable[[dict], bool]],
              positions: list[int]) -> list[int]:
    """Indexes into ``positions`` whose records pass every test: on light fields when ``fields``
    are all light, else on the decoded records."""
    if not tests:
        return list(range(len(positions)))
    if fields <= set(records.fields):
        view = records.light_dict
    else:
        view = records.__getitem__
    found = []
    for k, i in enumerate(positions):
        record = view(i)
        if all(test(record) for test in tests):
            found.append(k)
    return found


# ---------------------------------------------------------------- CRM

_PLAIN = (str, type(None))


def crm_rows(records: CompactRecords, filters: list[dict], predicates: list[Callable], orders: Any,
             count: int, sort_key: Callable[[str], Callable[[dict], Any]]) -> tuple[list[dict], int]:
    """``run_query``'s rows over a compact object: the first ``count`` matching records in the
    order asked and how many match - as ``KeysetIndex.page`` or the filter-then-``_top`` scan
    give them (``orders`` already validated)."""
    keyset = _crm_keyset(records, filters, orders)
    if keyset is not None:
        at, field, op, value = keyset
        keys, order = _sorted(records, f"crm:{field}", sort_key(field))
        start = (bisect.bisect_right if op == "GT" else bisect.bisect_left)(keys, (2, value))
        others = [f for i, f in enumerate(filters) if i != at]
        tests = [p for i, p in enumerate(predicates) if i != at]
        matched = _cached(records, ("match", "crm-keyset", field, json.dumps(others, sort_keys=True)),
                          lambda: _matching(records, {f["field_name"] for f in others}, tests, order))
        first = bisect.bisect_left(matched, start)
        return [records[order[k]] for k in matched[first:first + count]], len(matched) - first
    positions = list(range(len(records)))
    matched = _cached(records, ("match", "crm", json.dumps(filters, sort_keys=True)),
                      lambda: _matching(records, {f["field_name"] for f in filters}, predicates, positions))
    if orders:
        fields = {o["fieldName"] for o in orders}
        view = records.light_dict if fields <= set(records.fields) else records.__getitem__
        ranked = list(matched)
        for o in reversed(orders):  # stable sorts, last key first: _top's order for any number of keys
            key = sort_key(o["fieldName"])
            ranked.sort(key=lambda i, key=key: key(view(i)), reverse=not o.get("isAsc", True))
        matched = ranked
    return [records[i] for i in matched[:count]], len(matched)


def _crm_keyset(records: CompactRecords, filters: list[dict], orders: Any) -> tuple | None:
    """(filter index, field, GT/GTE, value) when the query pages by a light text field whose
    values are all text (or empty), so the sort key's order is the filter's; else None."""
    if not (isinstance(orders, list) and len(orders) == 1 and orders[0].get("isAsc", True) is True):
        return None
    field = orders[0]["fieldName"]
    at = [i for i, f in enumerate(filters) if f.get("field_name") == field]
    if len(at) != 1 or filters[at[0]].get("operator") not in ("GT", "GTE"):
        return None
    values = filters[at[0]]["field_values"]
    column = records.column(field) if "." not in field else None
    if len(values) != 1 or not values[0] or column is None:
        return None
    plain = _cached(records, ("plain", field), lambda: all(v is MISSING or type(v) in _PLAIN for v in column))
    return (at[0], field, filters[at[0]]["operator"], values[0]) if plain else None


# ---------------------------------------------------------------- U8

def u8_ordered(records: CompactRecords, resource: str, natural_key: Callable) -> tuple[list, list[int]]:
    """(natural keys ascending, positions): ``_KeyIndex.ordered``'s stable sort by natural key."""
    return _sorted(records, f"u8:{resource}", lambda light: natural_key(resource, light))


def u8_rows(records: CompactRecords, resource: str, natural_key: Callable, params: dict[str, str],
            predicates: list[Callable]) -> list[int]:
    """Positions of ``batch_get``'s rows: natural-key order, then the filters (on light fields:
    every U8 filter reads one), as ``[r for r in ordered if all(p(r) ...)]``."""
    _, order = u8_ordered(records, resource, natural_key)
    if not predicates:
        return order
    key = ("match", "u8", json.dumps(params, sort_keys=True))
    found = _cached(records, key, lambda: _matching(records, set(), predicates, order))
    return [order[k] for k in found]


def u8_find(records: CompactRecords, resource: str, natural_key: Callable, wanted: str) -> dict | None:
    """``_KeyIndex.find``: the record with natural key ``wanted`` (the last one, as a dict built
    from the list keeps), or None."""
    keys, order = u8_ordered(records, resource, natural_key)
    at = bisect.bisect_right(keys, wanted) - 1
    return records[order[at]] if at >= 0 and keys[at] == wanted else None


# ---------------------------------------------------------------- WeCom

def _light(records: CompactRecords, field: str) -> Callable[[int], Any]:
    column = records.column(field)
    if column is None:
        return lambda i: None
    return lambda i: None if (v := column[i]) is MISSING else v


def wecom_contacts(records: CompactRecords, start: int, limit: int, wanted: set) -> tuple[list[dict], str]:
    """``scan_page`` over external contacts whose ``follow_info.userid`` is wanted."""
    from simulators.wecom import encode_cursor

    userid = _light(records, "follow_info.userid")
    page: list[dict] = []
    for index in range(start, len(records)):
        if userid(index) in wanted:
            if len(page) == limit:
                return page, encode_cursor(index)
            page.append(records[index])
    return page, ""


def wecom_messages(records: CompactRecords, seq: int, limit: int, cutoff: float | None,
                   number: Callable[[Any], float]) -> list[dict]:
    """``nsmallest(limit, messages with seq > seq [and msgtime >= cutoff], key=seq)``."""
    seq_of, msgtime = _light(records, "seq"), _light(records, "msgtime")
    keys, order = _cached(records, ("sorted", "wecom:seq"), lambda: _by_number(records, seq_of, number))
    page: list[dict] = []
    for k in range(bisect.bisect_right(keys, float(seq)), len(order)):
        if len(page) == limit:
            break
        if cutoff is None or number(msgtime(order[k])) >= cutoff:
            page.append(records[order[k]])
    return page


def _by_number(records: CompactRecords, value: Callable[[int], Any], number: Callable) -> tuple[list, list[int]]:
    keys = [number(value(i)) for i in range(len(records))]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [keys[i] for i in order], order


# ---------------------------------------------------------------- finance

def finance_rows(records: CompactRecords, since_text: str | None, since: Any, order_key: Callable,
                 rated_at: Callable) -> list[int]:
    """Positions of the credit ratings ``rated_at >= since``, by (``rated_at``, ``customer_code``):
    filtering the stable sort equals sorting the filtered list."""
    _, order = _sorted(records, "finance", order_key)
    if since_text is None:
        return order
    found = _cached(records, ("match", "finance", since_text),
                    lambda: _matching(records, set(), [lambda r: (t := rated_at(r)) is not None and t >= since],
                                      order))
    return [order[k] for k in found]
