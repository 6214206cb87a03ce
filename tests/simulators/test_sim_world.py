"""World loading and validation."""

import json
from datetime import datetime

import pytest

from simulators.world import SHANGHAI, World, WorldError, as_world, load_world


def write(tmp_path, content: str):
    path = tmp_path / "world.json"
    path.write_text(content, encoding="utf-8")
    return path


def test_load_fills_missing_sections_and_parses_now(tmp_path):
    path = write(tmp_path, json.dumps({"meta": {"now": "2026-11-20T09:00:00+08:00"},
                                       "crm": {"AccountObj": [{"_id": "a1"}]}}))
    world = load_world(path)
    assert world.now == datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    assert world.records("crm", "AccountObj") == [{"_id": "a1"}]
    assert world.records("u8", "customer") == []
    assert world.data["wecom"] == {}
    assert "ContractObj" in world.names("crm")


def test_naive_now_is_shanghai_and_missing_now_is_current_time():
    naive = World({"meta": {"now": "2026-11-20 09:00:00"}})
    assert naive.now.utcoffset().total_seconds() == 8 * 3600
    assert abs((World({}).now - datetime.now(SHANGHAI)).total_seconds()) < 5


def test_extra_objects_are_known():
    world = World({"crm": {"Project__c": [{"_id": "p1"}]}})
    assert "Project__c" in world.names("crm")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"crm": []}', "crm"),
        ('{"crm": {"AccountObj": {"_id": "a"}}}', "crm.AccountObj"),
        ('{"u8": {"customer": [1, 2]}}', "u8.customer.0"),
        ('{"meta": {"now": "yesterday"}}', "meta.now"),
    ],
)
def test_bad_world_files_raise_world_error_naming_the_file(tmp_path, content, fragment):
    path = write(tmp_path, content)
    with pytest.raises(WorldError) as info:
        load_world(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(WorldError, match="not found"):
        load_world(tmp_path / "nope.json")


def test_as_world_and_replace(tmp_path):
    path = write(tmp_path, json.dumps({"finance": {"credit_rating": [{"customer_code": "C1"}]}}))
    world = as_world(path)
    assert as_world(world) is world
    world.replace({"finance": {"credit_rating": []}})
    assert world.records("finance", "credit_rating") == []
