"""The tap's side of "skip what the hub holds" computes the loader's key and content hash exactly,
and the offer / report round-trip (connectors/kit/unchanged.py, connectors/landed_prints.py)."""

from decimal import Decimal

import orjson
import pytest

from connectors.admission import record_hash, record_key
from connectors.kit import unchanged
from connectors.kit.records import _as_loaded
from connectors.landed_prints import UnchangedReports, _prints

RECORDS = [
    {"code": "010001", "name": "江苏佳诚照明有限责任公司", "ModifyDate": "2025-09-27 12:06:06"},
    {"code": 7, "amount": Decimal("123.40"), "rate": Decimal("0.1"), "flag": True, "none": None},
    {"external_userid": "wm2", "userid": "u1", "external_contact": {"name": "史雪", "type": 2},
     "follow_info": {"tag_id": [], "remark_mobiles": ["+86139"], "createtime": 1791344053}},
    {"code": "A", "_sdc_extracted_at": "2026-12-01T00:00:00", "big": 2**62, "text": "a\u2028b\"\\"},
]


@pytest.mark.parametrize("record", RECORDS)
def test_the_tap_hashes_a_record_as_the_loader_will(record):
    loaded = orjson.loads(orjson.dumps({"type": "RECORD", "record": _as_loaded(record)}))["record"]
    assert unchanged.record_print(_as_loaded(record)) == unchanged.content_print(record_hash(loaded))
    for keys in (["code"], ["external_userid", "userid"], []):
        try:
            expected = record_key(loaded, keys)
        except ValueError:
            expected = None
        assert unchanged.record_key(_as_loaded(record), keys) == expected
        if expected is not None:  # the filter, on the record as the stream has it, finds it held
            f = unchanged.UnchangedFilter("s", {unchanged.key_hash(expected): unchanged.content_print(
                record_hash(loaded))}, keys, _as_loaded)
            assert f.skip(record) and f.report()["unseen"] == ""


def test_a_changed_field_changes_the_print_and_equal_numbers_are_equal_as_for_the_loader():
    def landed(record):
        return record_hash(orjson.loads(orjson.dumps(_as_loaded(record))))

    one = _as_loaded({"code": "1", "amount": Decimal("123.40")})
    same = _as_loaded({"code": "1", "amount": Decimal("123.4")})  # one float once the loader reads it
    other = _as_loaded({"code": "1", "amount": Decimal("123.41")})
    assert unchanged.record_print(one) == unchanged.record_print(same)
    assert landed({"code": "1", "amount": Decimal("123.40")}) == landed({"code": "1", "amount": Decimal("123.4")})
    assert unchanged.record_print(one) != unchanged.record_print(other)


def filter_for(offered: dict[str, str], keys=("code",)) -> unchanged.UnchangedFilter:
    prints = {unchanged.key_hash(k): unchanged.content_print(h) for k, h in offered.items()}
    return unchanged.UnchangedFilter("customer", prints, list(keys), _as_loaded)


def test_the_filter_skips_held_versions_emits_the_rest_and_reports_unseen_keys():
    a, b, c = ({"code": k, "name": k.lower()} for k in "ABC")
    held = {"A": record_hash(a), "B": record_hash({"code": "B", "name": "old"}), "D": record_hash({"code": "D"})}
    f = filter_for(held)
    assert [f.skip(r) for r in (a, b, c)] == [True, False, False]  # held, changed, new
    assert f.skip(a) is False  # a repeat in the pass is emitted (the last version wins, as before)
    assert f.skip({"name": "no key"}) is False
    report = f.report()
    assert report["unchanged"] == 1
    assert set(unchanged.unpack(report["unseen"])) == {unchanged.key_hash("D")}  # not listed: deleted
    assert list(unchanged.unpack(report["repeated"])) == [unchanged.key_hash("A")]  # skipped, then again
    assert f.skip(b) is False and list(unchanged.unpack(f.report()["repeated"])) == [unchanged.key_hash("A")]


def test_the_offer_round_trips_and_is_refused_for_another_schema_or_when_forced():
    schema = {"type": "object", "properties": {"code": {"type": "string"}}}
    prints = {unchanged.key_hash("A"): 5, unchanged.key_hash("B"): 2**64 - 1}
    entry = unchanged.pack_offer(unchanged.schema_print(schema, ["code"]), prints)
    config = {unchanged.CONFIG_KEY: {"customer": entry}}
    assert unchanged.offered(config, "customer", schema, ["code"]) == prints
    assert unchanged.offered(config, "customer", schema, ["code", "name"]) is None  # another key
    assert unchanged.offered(config, "customer", {**schema, "required": ["code"]}, ["code"]) is None
    assert unchanged.offered({**config, unchanged.FORCE_KEY: True}, "customer", schema, ["code"]) is None
    assert unchanged.offered(config, "person", schema, ["code"]) is None
    assert unchanged.offered({unchanged.CONFIG_KEY: {"customer": {"schema": "x", "prints": "!"}}},
                             "customer", schema, ["code"]) is None


def test_colliding_key_hashes_and_held_keys_are_not_offered(monkeypatch):
    monkeypatch.setattr("connectors.landed_prints.key_hash", lambda key: 1 if key in ("X", "Y") else hash(key))
    keys, prints = _prints([("X", "a" * 64), ("Y", "b" * 64), ("Z", "c" * 64), ("Q", "d" * 64)], held={"Q"})
    assert list(keys.values()) == ["Z"] and len(prints) == 1


def test_the_loader_counts_listed_offered_keys_as_seen_only_with_a_report():
    offered = {"customer": {unchanged.key_hash(k): k for k in ("A", "B", "C")}}
    reports = UnchangedReports(offered)
    assert list(reports.listed("customer")) == []  # no report: every listed record was emitted
    assert reports.take({"stream": "person", "unchanged": 1, "unseen": ""}) is None  # not offered
    assert reports.take({"stream": "customer", "unchanged": "2", "unseen": ""}) is None
    taken = reports.take({"stream": "customer", "unchanged": 2, "unseen": unchanged.pack([unchanged.key_hash("C")])})
    assert taken == ("customer", 2)
    assert sorted(reports.listed("customer")) == ["A", "B"]


def test_a_skipped_record_listed_again_is_still_reported_as_a_duplicate_key(engine):
    """The loader never saw the skipped first record: the report's ``repeated`` stands for it, so
    the run reports the key as a duplicate, as it did when every record was emitted."""
    import json

    from sqlalchemy import select

    from connectors.landing import SingerLoader
    from hub_core.schema_quarantine import sync_duplicate_key

    schema = {"type": "SCHEMA", "stream": "customer", "key_properties": ["code"],
              "schema": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}}

    def line(stream, record):
        return json.dumps({"type": "RECORD", "stream": stream, "record": record})

    loader = SingerLoader(engine, "u8", 1)
    loader.expect_unchanged({"customer": {unchanged.key_hash(k): k for k in ("A", "B")}})
    report = {"stream": "customer", "unchanged": 2, "unseen": unchanged.pack([]),
              "repeated": unchanged.pack([unchanged.key_hash("A")])}
    stats = loader.feed([json.dumps(schema), line("customer", {"code": "A", "name": "again"}),
                         line(unchanged.REPORT_STREAM, report)])
    assert stats.streams["customer"].duplicates == 1
    with engine.connect() as conn:
        assert conn.execute(select(sync_duplicate_key.c.record_key)).scalars().all() == ["A"]
