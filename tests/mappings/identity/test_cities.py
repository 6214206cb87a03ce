"""A record's place inferred from its landline's area code (or its address) when its name states
none: two records placed in cities that exclude each other are never joined on a name alone."""

import json

import pytest
from sqlalchemy import select

from connectors.landing import SingerLoader
from hub_core.schema import customer_review, customer_xref
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.cities import (
    address_place,
    area_codes,
    infer_cities,
    load_area_codes,
)
from mappings.identity.config import Matching
from mappings.identity.engine import resolve
from mappings.identity.phones import area_code, extract_phones
from mappings.identity.records import to_rec
from mappings.normalize import name_key
from mappings.regions import CITY_PROVINCE, places_compatible
from simulators.generator.names import DIAL_CODES

CODE = "91110108551385082Q"  # valid (business-rules.md)


def row(ref, name, phones=(), address=None, uscc=None, **kw):
    """A staged customer row, as records.py stages it, reduced to what the engine reads."""
    key = name_key(name)
    return {"ref": ref, "system": ref.split(":")[0], "name_key": key.core if key else None,
            "name_place": key.place if key else None, "aliases": "[]", "uscc": uscc, "uscc_raw": None,
            "link_code": None, "phones": json.dumps(list(phones)), "address": address, "address_key": None,
            "contacts": json.dumps(kw.get("contacts", [])), "is_deleted": False}


def clusters(rows, cfg=None):
    result = resolve([to_rec(r) for r in rows], cfg or Matching())
    return sorted(sorted(c) for c in result.clusters), result


@pytest.mark.parametrize("code", [CODE, None], ids=["coded-customer", "codeless-customer"])
def test_the_only_namesake_in_another_city_is_not_joined_on_its_name(code):
    """The known false merge: 杭州's XX (city dropped from its name) next to the only XX, in 上海."""
    shanghai = row("u8:customer:S1", "鑫越装饰工程有限公司", ["021-61234567"], uscc=code)
    hangzhou = row("u8:customer:H1", "鑫越装饰工程有限公司", ["0571-87654321", "13812345678"])
    got, result = clusters([shanghai, hangzhou])
    assert got == [["u8:customer:H1"], ["u8:customer:S1"]]
    _, cands = result.review["u8:customer:H1"]  # IT sees it, with the namesake and why
    assert [sig for _, _, sig in cands] == [("name_exact", "other_city")]
    # the same area code (another number of the same switchboard): one customer, by name key
    same = row("u8:customer:H1", "鑫越装饰工程有限公司", ["021-69999999"])
    assert clusters([shanghai, same])[0] == [["u8:customer:H1", "u8:customer:S1"]]


def test_an_explicit_city_clashes_with_an_inferred_one_and_a_province_agrees():
    named = row("crm:AccountObj:A", "上海鑫越装饰工程有限公司")
    hangzhou = row("u8:customer:H1", "鑫越装饰工程有限公司", ["0571-87654321"])
    assert len(clusters([named, hangzhou])[0]) == 2
    zhejiang = row("crm:AccountObj:A", "浙江鑫越装饰工程有限公司")
    assert len(clusters([zhejiang, hangzhou])[0]) == 1  # 杭州 is in 浙江


def test_the_address_places_a_record_before_its_landlines():
    shanghai = row("u8:customer:S1", "鑫越装饰工程有限公司", ["021-61234567"], uscc=CODE)
    moved = row("u8:customer:H1", "鑫越装饰工程有限公司", ["021-69999999"], address="杭州市西湖区文三路1号")
    assert len(clusters([shanghai, moved])[0]) == 2
    street = row("u8:customer:H1", "鑫越装饰工程有限公司", address="北京东路100号")  # a street, not 北京
    assert len(clusters([shanghai, street])[0]) == 1


def test_a_placeless_record_does_not_bridge_two_cities():
    shanghai = row("u8:customer:S1", "鑫越装饰工程有限公司", ["021-61234567"])
    hangzhou = row("u8:customer:H1", "鑫越装饰工程有限公司", ["0571-87654321"])
    nowhere = row("crm:AccountObj:N", "鑫越装饰工程有限公司")  # sorts first: it looks before the others
    got, result = clusters([shanghai, hangzhou, nowhere])
    assert got == [["crm:AccountObj:N"], ["u8:customer:H1"], ["u8:customer:S1"]]
    assert "crm:AccountObj:N" in result.review  # either could be it: a tie for IT


def test_a_name_with_other_evidence_still_joins_across_area_codes():
    """Only a name *alone* is barred: a shared contact person is more than the name."""
    shanghai = row("u8:customer:S1", "鑫越装饰工程有限公司", ["021-61234567"], contacts=["王建国"])
    hangzhou = row("crm:AccountObj:H", "鑫越装饰工程公司", ["0571-87654321"], contacts=["王建国"])
    cfg = Matching(name_key_joins=False)  # the evidence stage alone: name 0.6 + contact 0.2
    assert len(clusters([shanghai, hangzhou], cfg)[0]) == 1
    alone = row("crm:AccountObj:H", "鑫越装饰工程公司", ["0571-87654321"])
    assert len(clusters([shanghai, alone], cfg)[0]) == 2


def test_the_knob_turns_the_inference_off():
    shanghai = row("u8:customer:S1", "鑫越装饰工程有限公司", ["021-61234567"], uscc=CODE)
    hangzhou = row("u8:customer:H1", "鑫越装饰工程有限公司", ["0571-87654321"])
    assert len(clusters([shanghai, hangzhou], Matching(infer_cities=False))[0]) == 1


def test_the_table_covers_the_generator_and_the_major_cities():
    table = area_codes()
    for city, code in DIAL_CODES.items():  # every city the generator gives a landline
        assert any(places_compatible(city, p) for p in table[code]), (city, code, table.get(code))
    major = {"010": "北京", "021": "上海", "022": "天津", "023": "重庆", "020": "广州", "0755": "深圳",
             "0571": "杭州", "025": "南京", "027": "武汉", "028": "成都", "029": "西安", "024": "沈阳"}
    assert all(city in table[code] for code, city in major.items())
    assert all(p in CITY_PROVINCE or p in ("海南", "贵州") for places in table.values() for p in places)
    assert infer_cities(["0731-2345678", "13800138000"], None) == ("株洲", "湘潭", "长沙")
    assert infer_cities(["13800138000", "0999-1234567"], None) == ()  # a mobile, an unknown code


def test_area_code_of_a_normalized_landline():
    phones = extract_phones("021 6123 4567, 0571-87654321, 13800138000")
    assert [area_code(p) for p in phones] == [None, "021", "0571"]  # mobiles first


@pytest.mark.parametrize("text, bad", [('"0571": 火星', "unknown places"), ("571: 杭州", "no area code")])
def test_a_bad_table_is_an_error_not_a_silent_miss(tmp_path, text, bad):
    path = tmp_path / "codes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=bad):
        load_area_codes(path)


@pytest.mark.parametrize("address, place", [
    ("杭州市西湖区文三路1号", "杭州"), ("浙江省杭州市西湖区", "杭州"), ("江苏省南京路5号", "江苏"),
    ("上海市北京东路100号", "上海"), ("北京东路100号", None), ("廣州市天河區", "广州"), ("", None), (None, None),
])
def test_address_place_needs_its_suffix(address, place):
    assert address_place(address) == place


def land(engine, source, stream, key, records, run_id):
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "schema": {"type": "object"}, "key_properties": key})]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}, ensure_ascii=False) for r in records]
    SingerLoader(engine, source, run_id).feed(lines)


def test_a_build_keeps_the_other_city_namesake_apart_and_queues_it(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "合肥沃瑞智能装备有限公司", "uscc__c": CODE, "tel": "0551-65551234"}], 1)
    land(engine, "u8", "customer", ["code"], [
        {"code": "U1", "name": "沃瑞智能装备有限责任公司", "taxno": "", "phone": "0756-3892646"},
        {"code": "U2", "name": "沃瑞智能装备有限公司", "taxno": "", "phone": "(0551)6555 9999"}], 2)
    with engine.begin() as conn:
        resolve_customers(conn, load_mapping(), None)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        queued = {r.ref: r.reason for r in conn.execute(select(customer_review))}
    assert ids["u8:customer:U2"] == ids["crm:AccountObj:A1"]  # 0551 is 合肥: its name key joins
    assert ids["u8:customer:U1"] != ids["crm:AccountObj:A1"]  # 0756 is 珠海
    assert "u8:customer:U1" in queued


def test_an_edited_table_changes_the_configuration_a_build_hashes(tmp_path, monkeypatch):
    from mappings.identity import cities

    shipped = Matching().model_dump()["area_codes_digest"]
    edited = tmp_path / "codes.yaml"
    edited.write_text(cities.AREA_CODES_FILE.read_text(encoding="utf-8") + '"0999": 乌鲁木齐\n', encoding="utf-8")
    monkeypatch.setattr(cities, "AREA_CODES_FILE", edited)
    assert Matching().model_dump()["area_codes_digest"] != shipped
