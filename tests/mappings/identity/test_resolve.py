"""Stable ids, trail, overrides, survivorship and incremental resolution, on both backends."""

import json

from sqlalchemy import select

from connectors.landing import SingerLoader
from hub_core.schema import customer, customer_review, customer_xref
from hub_core.schema_identity import customer_golden_field, customer_record, identity_registry, identity_trail
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.config import load_identity
from mappings.identity.engine import resolve
from mappings.identity.overrides import OverrideError, record_override, show_customer
from mappings.identity.records import to_rec

UA, UB = "91110108551385082Q", "91310000MA1FL4XK1Y"
_run = iter(range(1, 10_000))


def land(engine, source, stream, key, records):
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "schema": {"type": "object"}, "key_properties": key})]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}, ensure_ascii=False) for r in records]
    SingerLoader(engine, source, next(_run)).feed(lines)


def run(engine, **kw):
    with engine.begin() as conn:
        return resolve_customers(conn, load_mapping(), None, **kw)


def xref(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())


def snapshot(engine):
    with engine.connect() as conn:
        return [sorted(tuple(r) for r in conn.execute(select(t))) for t in
                (customer_xref, customer, customer_review, customer_golden_field, identity_registry, identity_trail)]


def seed_world(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "上海恒远机电有限公司", "uscc__c": UA, "address": "上海市浦东路1号", "last_modified_time": 1},
        {"_id": "A2", "name": "苏州百川贸易有限公司", "tel": "0512-66668888"},
        {"_id": "A3", "name": "杭州云帆科技有限公司", "uscc__c": UB},
    ])
    land(engine, "u8", "customer", ["code"], [
        {"code": "U1", "name": "恒远机电（上海）", "taxno": UA, "address": "上海市浦东路1号A座", "phone": "021-55556666"},
        {"code": "U2", "name": "百川贸易", "taxno": "", "phone": "0512-6666 8888 转 12"},
    ])
    land(engine, "finance", "credit_rating", ["customer_code"], [
        {"customer_code": "U2", "uscc": "", "customer_name": "苏州百川贸易有限公司", "rating": "A"},
    ])


def test_rerun_without_change_writes_nothing(engine):
    seed_world(engine)
    first = run(engine)
    assert first.issued == 3 and first.customers == 3
    before = snapshot(engine)
    again = run(engine)
    assert (again.rows_written, again.issued, again.rematched) == (0, 0, 0)
    assert snapshot(engine) == before


def test_ids_come_from_the_registry_not_from_members(engine):
    seed_world(engine)
    run(engine)
    ids = xref(engine)
    assert ids["crm:AccountObj:A1"] == ids["u8:customer:U1"]
    assert ids["crm:AccountObj:A2"] == ids["u8:customer:U2"] == ids["finance:credit_rating:U2"]
    # the id survives every member being renamed and re-coded away from what created it
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A2", "name": "百川国际贸易有限公司", "tel": "0512-66668888"}])
    stats = run(engine)
    assert stats.issued == 0 and xref(engine) == ids


def test_new_records_keep_every_existing_id_and_only_their_block_is_rematched(engine):
    seed_world(engine)
    run(engine)
    before = xref(engine)
    land(engine, "u8", "customer", ["code"], [
        {"code": "U3", "name": "杭州云帆科技", "taxno": UB},  # joins A3 by code
        {"code": "U4", "name": "深圳星河物流有限公司"},  # a new customer
    ])
    stats = run(engine)
    after = xref(engine)
    assert all(after[ref] == cid for ref, cid in before.items())
    assert after["u8:customer:U3"] == after["crm:AccountObj:A3"]
    assert stats.issued == 1 and stats.rematched < stats.records


def test_merge_and_split_leave_a_trail_readers_can_follow(engine):
    seed_world(engine)
    run(engine)
    ids = xref(engine)
    a3, a2 = ids["crm:AccountObj:A3"], ids["crm:AccountObj:A2"]
    # A2's family gets A3's code on every record: the two customers become one
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A2", "name": "苏州百川贸易有限公司", "uscc__c": UB}])
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A3", "name": "苏州百川贸易有限公司", "uscc__c": UB}])
    land(engine, "u8", "customer", ["code"], [{"code": "U2", "name": "百川贸易", "taxno": UB}])
    run(engine)
    merged = xref(engine)
    survivor = merged["crm:AccountObj:A2"]
    assert survivor in (a2, a3) and merged["crm:AccountObj:A3"] == survivor
    gone = ({a2, a3} - {survivor}).pop()
    with engine.connect() as conn:
        trail = conn.execute(select(identity_trail).where(identity_trail.c.old_id == gone)).all()
        reg = conn.execute(select(identity_registry).where(identity_registry.c.entity_id == gone)).one()
        shown = show_customer(conn, gone)
    assert [t.event for t in trail] == ["merge"] and trail[0].new_id == survivor
    assert (reg.status, reg.merged_into) == ("merged", survivor)
    assert shown["customer_id"] == survivor
    # a record takes another valid code: it leaves for a new customer, the old id lives on
    land(engine, "u8", "customer", ["code"], [{"code": "U1", "name": "恒远机电（上海）", "taxno": "91330100MA27XQ5D78"}])
    stats = run(engine)
    after = xref(engine)
    assert stats.issued == 1 and after["crm:AccountObj:A1"] == ids["crm:AccountObj:A1"]
    with engine.connect() as conn:
        split = conn.execute(select(identity_trail).where(identity_trail.c.event == "split")).one()
    assert (split.old_id, split.new_id) == (ids["u8:customer:U1"], after["u8:customer:U1"])


def test_overrides_win_survive_reruns_and_can_be_released(engine):
    seed_world(engine)
    run(engine)
    ids = xref(engine)
    with engine.begin() as conn:
        record_override(conn, "crm:AccountObj:A3", "link", "crm:AccountObj:A1", "it", "same group")  # other code!
        record_override(conn, "finance:credit_rating:U2", "split", None, "it", "wrong rating")
    run(engine)
    with engine.connect() as conn:
        target = conn.execute(select(customer).where(customer.c.customer_id == ids["crm:AccountObj:A1"])).one()
    assert target.record_count == 3 and target.name == "上海恒远机电有限公司"  # A1, U1 and the linked A3
    for _ in range(2):
        now = xref(engine)
        assert now["crm:AccountObj:A3"] == ids["crm:AccountObj:A1"]
        assert now["finance:credit_rating:U2"] not in (ids["crm:AccountObj:A2"], ids["crm:AccountObj:A3"])
        assert now["crm:AccountObj:A2"] == ids["crm:AccountObj:A2"]
        land(engine, "u8", "customer", ["code"], [{"code": "U9", "name": "苏州百川贸易有限公司"}])  # a change
        run(engine, full=True)
    with engine.begin() as conn:
        record_override(conn, "crm:AccountObj:A3", "release", None, "it", "undo")
    run(engine)
    assert xref(engine)["crm:AccountObj:A3"] != ids["crm:AccountObj:A1"]


def test_override_of_unknown_things_is_a_clear_error(engine):
    seed_world(engine)
    run(engine)
    with engine.begin() as conn:
        for args in (("crm:AccountObj:nope", "split", None), ("crm:AccountObj:A1", "link", "C404"),
                     ("crm:AccountObj:A1", "merge", None)):
            try:
                record_override(conn, *args, "it", "x")
            except OverrideError as exc:
                assert str(exc)
            else:
                raise AssertionError(f"accepted {args}")


def test_golden_fields_follow_priority_then_recency_with_provenance(engine):
    seed_world(engine)
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A4", "name": "上海恒远机电股份有限公司", "uscc__c": UA, "last_modified_time": 99, "address": "新地址"}])
    run(engine)
    cid = xref(engine)["crm:AccountObj:A1"]
    with engine.connect() as conn:
        golden = {g.field: g for g in conn.execute(select(customer_golden_field)
                                                   .where(customer_golden_field.c.customer_id == cid))}
        row = conn.execute(select(customer).where(customer.c.customer_id == cid)).one()
    assert (golden["name"].ref, golden["name"].rule) == ("crm:AccountObj:A4", "recency")  # CRM first, newest
    assert row.name == "上海恒远机电股份有限公司"
    assert (golden["address"].ref, golden["address"].rule) == ("u8:customer:U1", "priority")  # U8 first for addresses
    assert (golden["uscc"].value, golden["uscc"].rule) == (UA, "code")
    assert golden["phone"].value == "021-55556666" and row.record_count == 3


def test_incremental_gives_the_same_partition_as_matching_everything(engine):
    seed_world(engine)
    run(engine)
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A5", "name": "百川贸易有限公司", "tel": "0512-66668888"},
        {"_id": "A6", "name": "杭州云帆科枝有限公司", "tel": "13800000001"},
    ])
    land(engine, "u8", "customer", ["code"], [{"code": "U3", "name": "杭州云帆科技", "taxno": UB, "mobile": "13800000001"}])
    run(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(customer_record)).all()
    full = resolve([to_rec(r) for r in rows], load_identity().matching)
    got: dict[str, set] = {}
    for ref, cid in xref(engine).items():
        got.setdefault(cid, set()).add(ref)
    assert sorted(map(sorted, got.values())) == sorted(full.clusters)


def test_contacts_resolve_with_the_same_engine_and_stable_ids(engine):
    from hub_core.schema_identity import contact_xref

    seed_world(engine)
    land(engine, "crm", "ContactObj", ["_id"], [
        {"_id": "P1", "name": "王芳", "mobile": "138-0000-0001", "account_id": "A1"},
        {"_id": "P2", "name": "王芳", "mobile": "13900000002", "account_id": "A3"},  # a namesake elsewhere
        {"_id": "P3", "name": "李强", "mobile": "13700000003", "account_id": "A1"},
    ])
    land(engine, "wecom", "external_contacts", [], [
        {"external_contact": {"external_userid": "wmA", "name": "王芳", "corp_full_name": "上海恒远机电有限公司"},
         "follow_info": {"remark_mobiles": ["+86 138 0000 0001"]}},
        {"external_contact": {"external_userid": "wmB", "name": "李强", "corp_full_name": "恒远机电（上海）"},
         "follow_info": {"remark_mobiles": []}},  # no mobile: same name at the same company
        {"external_contact": {"external_userid": "wmC", "name": "王芳", "corp_full_name": "杭州云帆科技有限公司"},
         "follow_info": {"remark_mobiles": ["13600000009"]}},  # P2 with a second mobile
        {"external_contact": {"external_userid": "wmD", "name": "赵总"},
         "follow_info": {"remark_mobiles": [], "remark_corp_name": "苏州百川贸易"}},  # no corp_full_name
        {"external_contact": {"external_userid": "wmE", "name": "钱总", "corp_full_name": "浙江云帆科技有限公司"},
         "follow_info": {"remark_mobiles": []}},  # the province of the account's city
        {"external_contact": {"external_userid": "wmF", "name": "孙总", "corp_full_name": "北京恒远机电有限公司"},
         "follow_info": {"remark_mobiles": []}},  # an explicit other city: not the Shanghai customer
    ])
    run(engine)
    with engine.connect() as conn:
        people = dict(conn.execute(select(contact_xref.c.ref, contact_xref.c.contact_id)).all())
        customers = dict(conn.execute(select(contact_xref.c.ref, contact_xref.c.customer_id)).all())
    assert people["crm:ContactObj:P1"] == people["wecom:external_contacts:wmA"]
    assert people["crm:ContactObj:P3"] == people["wecom:external_contacts:wmB"]
    assert people["crm:ContactObj:P2"] != people["crm:ContactObj:P1"]
    assert people["crm:ContactObj:P1"] != people["crm:ContactObj:P3"]  # two people at one account stay two
    assert customers["wecom:external_contacts:wmA"] == xref(engine)["crm:AccountObj:A1"]
    assert customers["wecom:external_contacts:wmC"] == xref(engine)["crm:AccountObj:A3"]  # by company name
    assert people["wecom:external_contacts:wmC"] == people["crm:ContactObj:P2"]  # same name at the same company
    assert customers["wecom:external_contacts:wmD"] == xref(engine)["crm:AccountObj:A2"]  # by remark_corp_name
    assert customers["wecom:external_contacts:wmE"] == xref(engine)["crm:AccountObj:A3"]
    assert customers["wecom:external_contacts:wmF"] is None
    # the account's contact mobiles are evidence for the customer too
    with engine.connect() as conn:
        phones = conn.execute(select(customer_record.c.phones).where(customer_record.c.ref == "crm:AccountObj:A1")).scalar()
    assert "13800000001" in json.loads(phones)
    assert run(engine).rows_written == 0


def test_contact_records_are_read_once_and_staged_as_read_alone(engine, monkeypatch):
    """Customer staging and contact staging share one read of the contact streams, except in a full
    resolution: there the streams linked to customers are streamed into customer staging and read
    again by contact staging (not held in between: memory); contact staging on its own (no shared
    read) makes the same rows."""
    import mappings.identity.contact_reads as contact_reads
    import mappings.identity.records as records
    from mappings.identity.contacts import stage_contacts

    seed_world(engine)
    land(engine, "crm", "ContactObj", ["_id"], [
        {"_id": "P1", "name": "王芳", "mobile": "138-0000-0001", "account_id": "A1"},
        {"_id": "P3", "name": "李强", "mobile": "13700000003", "account_id": "A1"},
    ])
    land(engine, "wecom", "external_contacts", [], [
        {"external_contact": {"external_userid": "wmD", "name": "赵总"},
         "follow_info": {"remark_mobiles": [], "remark_corp_name": "苏州百川贸易"}},
    ])
    streams = []
    plain = records.iter_current

    def counted(conn, source, stream):
        streams.append(stream)
        return plain(conn, source, stream)

    monkeypatch.setattr(records, "iter_current", counted)
    monkeypatch.setattr(contact_reads, "iter_current", counted)
    shared = contact_reads.ContactReads
    kept = []
    monkeypatch.setattr("mappings.identity.resolve.ContactReads",
                        lambda *a: kept.append(shared(*a)) or kept[-1])
    run(engine)
    contact_streams = [s.stream for s in load_identity().contacts]
    assert sorted(s for s in streams if s in contact_streams) == sorted(contact_streams)
    assert kept[0]._reads is None  # released once contact staging made its rows
    streams.clear()
    run(engine, full=True)
    linked = [s.stream for s in load_identity().contacts if s.customer]
    assert linked and sorted(s for s in streams if s in contact_streams) == sorted(contact_streams + linked)
    assert not kept[1]._by_stream  # nothing of them held
    with engine.connect() as conn:
        alone = stage_contacts(conn, load_identity(), load_mapping().source_for)
        again = shared(conn, load_identity(), load_mapping().source_for)
        assert list(stage_contacts(conn, load_identity(), load_mapping().source_for, again).rows()) == list(alone.rows())
    assert {r.ref: r.customer_id for r in alone.rows()}["wecom:external_contacts:wmD"] == xref(engine)["crm:AccountObj:A2"]


def test_records_waiting_for_review_are_marked_provisional(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "恒通建材有限公司", "uscc__c": UA},
        {"_id": "A2", "name": "恒通建材有限公司", "uscc__c": UB},
    ])
    land(engine, "u8", "customer", ["code"], [{"code": "U3", "name": "恒通建材"}])
    run(engine)
    with engine.connect() as conn:
        decided = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.decided_by)).all())
        queue = conn.execute(select(customer_review)).one()
    assert decided == {"crm:AccountObj:A1": "rule", "crm:AccountObj:A2": "rule", "u8:customer:U3": "review"}
    cands = json.loads(queue.candidates)
    assert {c["customer_id"] for c in cands} == {xref(engine)["crm:AccountObj:A1"], xref(engine)["crm:AccountObj:A2"]}
    assert queue.customer_id == xref(engine)["u8:customer:U3"]


def test_ids_of_an_older_crosswalk_are_adopted_not_renamed(engine):
    from sqlalchemy import insert

    seed_world(engine)
    with engine.begin() as conn:  # what the derived-id builds before the registry left behind
        conn.execute(insert(customer_xref), [
            {"ref": "crm:AccountObj:A1", "customer_id": "C5D1E0F3A2B4C", "system": "crm", "match_method": "uscc"},
            {"ref": "u8:customer:U1", "customer_id": "C5D1E0F3A2B4C", "system": "u8", "match_method": "uscc"},
        ])
    stats = run(engine)
    ids = xref(engine)
    assert ids["crm:AccountObj:A1"] == ids["u8:customer:U1"] == "C5D1E0F3A2B4C"
    assert stats.issued == 2  # the A2 and A3 customers
    with engine.connect() as conn:
        status = conn.execute(select(identity_registry.c.status)
                              .where(identity_registry.c.entity_id == "C5D1E0F3A2B4C")).scalar_one()
    assert status == "active"


def test_odd_values_do_not_stop_staging(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": ["恒通建材"], "uscc__c": {"x": 1}, "tel": {"a": "13800000001"}, "address": 7,
         "last_modified_time": "yesterday", "owner": {"id": 1}, "is_deleted": [True]},
        {"_id": "A2", "name": "恒通建材有限公司", "uscc__c": UA, "last_modified_time": 1.5e12},
    ])
    land(engine, "u8", "customer", ["code"], [{"code": 12, "name": None, "taxno": 91110108551385082,
                                                "ModifyDate": "2026-13-45"}])
    stats = run(engine)
    assert stats.records == 3
    assert set(xref(engine)) == {"crm:AccountObj:A1", "crm:AccountObj:A2", "u8:customer:12"}


def test_control_characters_are_stripped_not_the_record(engine):
    """PostgreSQL text refuses NUL: every staged text loses its NUL/control characters, the record stays."""
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "上海恒远\x00机电有限公司", "uscc__c": UA, "address": "上海市\x07浦东路1号",
         "tel": "021-5555\x006666"}])
    land(engine, "u8", "customer", ["code"], [{"code": "U1", "name": "恒远机电（上海）\x1f", "taxno": UA}])
    stats = run(engine)
    assert stats.records == 2
    assert set(xref(engine)) == {"crm:AccountObj:A1", "u8:customer:U1"}
    with engine.connect() as conn:
        rows = conn.execute(select(customer_record)).mappings().all()
    assert {r["name"] for r in rows} == {"上海恒远机电有限公司", "恒远机电（上海）"}
    assert len(set(xref(engine).values())) == 1  # still matched: the names and codes read as written
    assert not any(ch in str(v) for r in rows for v in r.values() for ch in "\x00\x07\x1f")


def test_adding_a_source_keeps_every_id(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "上海恒远机电有限公司", "uscc__c": UA},
        {"_id": "A2", "name": "苏州百川贸易有限公司"},
        {"_id": "A3", "name": "苏州百川贸易有限公司"},  # a duplicate account: one customer
    ])
    run(engine)
    before = xref(engine)
    assert before["crm:AccountObj:A2"] == before["crm:AccountObj:A3"]
    land(engine, "u8", "customer", ["code"], [{"code": "U1", "name": "恒远机电", "taxno": UA},
                                               {"code": "U2", "name": "百川贸易"}])
    land(engine, "finance", "credit_rating", ["customer_code"], [{"customer_code": "U2", "customer_name": "百川贸易"}])
    stats = run(engine)
    after = xref(engine)
    assert {ref: after[ref] for ref in before} == before and stats.issued == 0
    assert after["u8:customer:U2"] == after["finance:credit_rating:U2"] == before["crm:AccountObj:A2"]


def test_a_customer_whose_records_are_all_gone_is_retired_not_reused(engine):
    from sqlalchemy import update

    from hub_core.schema import raw_record

    seed_world(engine)
    run(engine)
    gone = xref(engine)["crm:AccountObj:A3"]
    with engine.begin() as conn:  # the source no longer has A3 at all
        conn.execute(update(raw_record).where(raw_record.c.record_key.like("%A3%")).values(is_current=False))
    stats = run(engine)
    assert stats.removed == 1 and "crm:AccountObj:A3" not in xref(engine)
    with engine.connect() as conn:
        reg = conn.execute(select(identity_registry).where(identity_registry.c.entity_id == gone)).one()
        trail = conn.execute(select(identity_trail).where(identity_trail.c.old_id == gone)).one()
        assert conn.execute(select(customer).where(customer.c.customer_id == gone)).first() is None
    assert reg.status == "retired" and trail.event == "retire"
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A9", "name": "全新客户有限公司"}])
    run(engine)
    assert xref(engine)["crm:AccountObj:A9"] != gone  # an id is never handed out twice
