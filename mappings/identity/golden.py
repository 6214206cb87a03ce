"""Survivorship: each golden field of a customer from the best source record, with provenance.

The source priority per field comes from identity.yaml (``survivorship``); among records of the
same priority the most recently updated wins, then the smaller ref (deterministic). Deleted
records only give a value when no live record has one. The credit code is the cluster's valid
code (the engine never lets a customer hold two).
"""

from __future__ import annotations

from functools import lru_cache

import orjson

FIELDS = ("name", "uscc", "address", "phone", "owner", "industry")


_LINKED = ("name_norm", "uscc", "address", None, "owner_employee_id")  # FIELDS read as a column


@lru_cache(maxsize=4096)
def _extra(text: str) -> dict:
    """A staged ``extra`` JSON object, parsed once per distinct text (a few industries)."""
    return orjson.loads(text)


def _values(row) -> tuple:
    """The value of each of :data:`FIELDS` in one staged row (falsy: none), read in one pass."""
    phones = row.get("phones")
    numbers = orjson.loads(phones) if phones and phones != "[]" else ()
    extra = _extra(row.get("extra") or "{}")
    return (row.get("name_norm"), row.get("uscc"), row.get("address"), numbers[0] if numbers else None,
            row.get("owner_employee_id"), *(extra.get(f) for f in FIELDS[len(_LINKED):]))


@lru_cache(maxsize=64)
def _rank(order: tuple[str, ...]) -> dict[str, int]:
    return {system: n for n, system in enumerate(order)}


def golden_fields(rows: list[dict], priorities: dict[str, list[str]]) -> dict[str, tuple[str, str, str]]:
    """field -> (value, ref, rule) for the records of one customer; rule is priority|recency|code."""
    out = {}
    values = [_values(r) for r in rows]
    for n, field in enumerate(FIELDS):
        order = tuple(priorities.get(field, ()))
        rank, last = _rank(order), len(order)
        cands = [(bool(r["is_deleted"]), rank.get(r["system"], last), -(r.get("updated_ms") or 0), r["ref"], v[n])
                 for r, v in zip(rows, values) if v[n]]
        if not cands:
            continue
        cands.sort()
        best = cands[0]
        if field == "uscc":
            rule = "code"
        elif len(cands) > 1 and cands[1][:2] == best[:2]:
            rule = "recency"
        else:
            rule = "priority"
        out[field] = (str(best[4]), best[3], rule)
    return out


def customer_row(customer_id: str, rows: list[dict], fields: dict[str, tuple[str, str, str]],
                 needs_review: bool) -> dict:
    """The ``customer`` table row built from the golden fields."""
    value = {f: v[0] for f, v in fields.items()}
    return {
        "customer_id": customer_id, "name": value.get("name") or min(r["ref"] for r in rows),
        "uscc": value.get("uscc"), "owner_employee_id": value.get("owner"), "record_count": len(rows),
        "needs_review": needs_review, "address": value.get("address"), "phone": value.get("phone"),
        "industry": value.get("industry"),
    }


def stamp_changes(desired: dict[str, dict], existing: dict[str, dict], now) -> None:
    """Set ``updated_at`` on each desired customer row: kept from the stored row when nothing else
    changed (so an unchanged customer is not rewritten), else ``now`` (wall-clock time, not the
    build's as-of, so that ``updated_since`` readers never miss a change made by a replayed build)."""
    for cid, row in desired.items():
        old = existing.get(cid)
        same = old is not None and old.get("updated_at") is not None and all(old.get(k) == v for k, v in row.items())
        row["updated_at"] = old["updated_at"] if same else now
