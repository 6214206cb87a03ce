"""The CRM simulator's keyset index answers exactly what the full scan answers."""

import copy
import random

import pytest

from simulators.crm import _sort_key, run_query
from simulators.crm_keyset import KeysetIndex


def records(n: int, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        row = {"_id": f"{rng.randrange(16**6):06x}{i:04d}", "name": f"n{i}", "last_modified_time": rng.randrange(50)}
        if i % 17 == 0:
            row["_id"] = ""  # empty: never matches GT, sorts first
        if i % 23 == 0:
            del row["_id"]  # missing
        if i % 29 == 0:
            row["_id"] = rng.randrange(1000)  # a number: never matches a text GT
        rows.append(row)
    return rows


def both(rows, info, index, name="Obj"):
    return run_query(rows, copy.deepcopy(info)), run_query(rows, copy.deepcopy(info), index, name)


@pytest.mark.parametrize("op", ["GT", "GTE"])
def test_keyset_pages_equal_the_scan(op):
    rng = random.Random(3)
    rows = records(400, rng)
    index = KeysetIndex(_sort_key)
    ids = sorted(r["_id"] for r in rows if isinstance(r.get("_id"), str) and r["_id"])
    for trial in range(60):
        after = rng.choice([*ids, "0", "zzzz", ids[0], ids[-1]])
        filters = [{"field_name": "_id", "operator": op, "field_values": [after]}]
        if trial % 3 == 0:
            filters.insert(0, {"field_name": "last_modified_time", "operator": "GT", "field_values": ["25"]})
        info = {"limit": rng.choice([1, 7, 100]), "offset": rng.choice([0, 0, 7]),
                "filters": filters, "orders": [{"fieldName": "_id", "isAsc": True}]}
        info["offset"] -= info["offset"] % info["limit"]
        scan, keyset = both(rows, info, index)
        assert keyset == scan
    assert index._sorted  # the index was used, not bypassed


def test_walking_every_page_reads_every_text_id_once():
    rng = random.Random(5)
    rows = records(250, rng)
    index = KeysetIndex(_sort_key)
    seen, after = [], "."  # text ids are hex: all of them sort after "." (not a number)
    for _ in range(len(rows)):
        filters = [{"field_name": "_id", "operator": "GT", "field_values": [after]}]
        page = run_query(rows, {"limit": 20, "filters": filters, "orders": [{"fieldName": "_id"}]}, index, "O")
        seen += [r.get("_id") for r in page["dataList"]]
        if len(page["dataList"]) < 20:
            break
        after = page["dataList"][-1]["_id"]
    assert seen == sorted(r["_id"] for r in rows if isinstance(r.get("_id"), str) and r["_id"])


def test_queries_the_index_cannot_answer_fall_back_to_the_scan():
    rows = [{"_id": "b", "tags": ["x", "z"]}, {"_id": "a", "tags": ["y"]}, {"_id": "c", "flag": True}]
    index = KeysetIndex(_sort_key)
    cases = [
        ("tags", "GT", "xa"),  # lists match by element: no single order agrees
        ("_id", "GT", "1e3"),  # numeric text compares numbers numerically
        ("_id", "LT", "c"),  # not a lower bound
    ]
    for field, op, value in cases:
        info = {"limit": 10, "filters": [{"field_name": field, "operator": op, "field_values": [value]}],
                "orders": [{"fieldName": field, "isAsc": True}]}
        assert index.page("O", rows, info["filters"], [lambda r: True], info["orders"], 10) is None
        scan, keyset = both(rows, info, index)
        assert keyset == scan
    desc = {"limit": 10, "filters": [{"field_name": "_id", "operator": "GT", "field_values": ["a"]}],
            "orders": [{"fieldName": "_id", "isAsc": False}]}
    scan, keyset = both(rows, desc, index)
    assert keyset == scan and [r["_id"] for r in scan["dataList"]] == ["c", "b"]


def test_the_index_follows_records_added_or_a_replaced_list():
    rows = [{"_id": "a"}, {"_id": "c"}]
    index = KeysetIndex(_sort_key)
    info = {"limit": 10, "filters": [{"field_name": "_id", "operator": "GT", "field_values": ["a"]}],
            "orders": [{"fieldName": "_id", "isAsc": True}]}
    assert [r["_id"] for r in run_query(rows, info, index, "O")["dataList"]] == ["c"]
    rows.append({"_id": "b"})
    assert [r["_id"] for r in run_query(rows, info, index, "O")["dataList"]] == ["b", "c"]
    rows[1]["name"] = "edited"  # other fields are read live
    assert run_query(rows, info, index, "O")["dataList"][1] == {"_id": "c", "name": "edited"}
    replaced = [{"_id": "d"}]
    assert [r["_id"] for r in run_query(replaced, info, index, "O")["dataList"]] == ["d"]
