"""Building the customer-360 from landed records, including hostile values, on both backends."""

import json

from sqlalchemy import select

from connectors.landing import SingerLoader
from hub_core.schema import customer_xref, stg_opportunity
from hub_core.schema_identity import customer_record
from mappings.build import build_customer360

OPEN = {"type": "object"}


def land(engine, source, stream, key, records):
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "schema": OPEN, "key_properties": key})]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}, ensure_ascii=False) for r in records]
    SingerLoader(engine, source, 1).feed(lines)


def test_hostile_values_do_not_break_the_build(engine):
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "恒" * 2000, "uscc__c": "not-a-code"},
        {"_id": "A2", "name": None, "owner": "not-a-list"},
    ])
    land(engine, "crm", "NewOpportunityObj", ["_id"], [
        {"_id": "O1", "account_id": "A1", "amount": "1e20", "close_date": 10**17, "sales_status": 2},
        {"_id": "O2", "account_id": ["A2"], "amount": "12.345", "close_date": "soon", "sales_status": "2"},
    ])
    stats = build_customer360(engine)
    assert stats.customers == 2 and stats.opportunities == 2
    with engine.connect() as conn:
        opps = {r.opp_id: r for r in conn.execute(select(stg_opportunity))}
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
    assert opps["O1"].amount_cents is None and opps["O1"].close_day is None and opps["O1"].status == "won"
    assert opps["O2"].amount_cents == 1235 and opps["O2"].close_ms is None
    assert opps["O2"].customer_id == xref["crm:AccountObj:A2"]


def test_keyless_stream_versions_do_not_duplicate_staged_rows(engine):
    land(engine, "crm", "AccountObj", [], [{"_id": "A1", "name": "恒通建材"}, {"_id": "A1", "name": "恒通建材有限公司"}])
    stats = build_customer360(engine)
    assert stats.customer_records == 1
    with engine.connect() as conn:
        assert conn.execute(select(customer_record.c.name)).scalar_one() == "恒通建材有限公司"  # the newest


def test_realistic_small_build(engine):
    from hub_core.schema import customer, customer_review, stg_employee

    land(engine, "crm", "PersonnelObj", ["_id"], [
        {"_id": "1", "name": "王芳", "mobile": "13800000001", "main_department": "华东大区", "leader_id": "2"},
        {"_id": "2", "name": "李强", "mobile": "13800000002", "main_department": "华东大区"},
    ])
    land(engine, "u8", "person", ["code"], [{"code": "P01", "name": "王芳", "mobile": "+86 138-0000-0001"}])
    land(engine, "wecom", "follow_users", ["userid"], [{"userid": "wangfang", "name": "王芳", "mobile": "8613800000001"}])
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "上海恒远机电有限公司", "owner": ["1"], "uscc__c": "91310000MA1FL4XK1Y"},
        {"_id": "A2", "name": "恒通建材有限公司", "uscc__c": "91110108551385082Q"},
    ])
    land(engine, "u8", "customer", ["code"], [
        {"code": "U1", "name": "恒远机电（上海）", "taxno": "91310000MA1FL4XK1Y", "spec_operator": "P01"},
        {"code": "U2", "name": "广州恒通建材有限公司", "taxno": "91440101MA59XXXX0" + "X"},  # invalid code
        {"code": "U3", "name": "恒通建材"},
    ])
    # closed 2025-11-19 23:30 in Shanghai (15:30 UTC): its calendar day is the Shanghai one
    land(engine, "crm", "NewOpportunityObj", ["_id"], [
        {"_id": "O1", "account_id": "A1", "amount": 10, "close_date": 1763566200000, "sales_status": "2", "owner": ["1"]},
    ])
    build_customer360(engine)
    with engine.connect() as conn:
        people = conn.execute(select(stg_employee)).all()
        names = dict(conn.execute(select(customer_xref.c.ref, customer.c.name)
                                  .join(customer, customer.c.customer_id == customer_xref.c.customer_id)).all())
        opp = conn.execute(select(stg_opportunity)).one()
        review = conn.execute(select(customer_review.c.ref)).scalars().all()
    wang = next(p for p in people if p.name == "王芳")
    assert (wang.crm_id, wang.u8_code, wang.wecom_userid, wang.region) == ("1", "P01", "wangfang", "华东大区")
    assert wang.leader_employee_id == next(p.employee_id for p in people if p.name == "李强")
    assert len(people) == 2  # one person in three systems, linked by differently written mobiles
    assert names["u8:customer:U1"] == "上海恒远机电有限公司"  # the CRM spelling names the customer
    assert str(opp.close_day) == "2025-11-19"
    assert opp.owner_employee_id == wang.employee_id
    assert names["u8:customer:U2"] == names["crm:AccountObj:A2"]  # code invalid: joined by name
    assert review == []


def test_the_config_hash_does_not_depend_on_where_the_package_is_installed(monkeypatch):
    """The same release in another folder (a versioned deploy, a second checkout) must not force
    a full rebuild: the files' contents are hashed, not where they lie."""
    from pathlib import Path

    from mappings import build
    from mappings.build import _PACKAGE_DIR, _config_hash
    from mappings.config import load_mapping

    cfg = load_mapping()
    here = _config_hash(cfg)
    fields = ("streams", "customer360", "employee_overrides")
    assert all(str(getattr(cfg, k)).startswith(_PACKAGE_DIR) for k in fields)
    elsewhere = "/opt/hub-2.1/lib/mappings"  # the package as installed there, its files beside it
    moved = cfg.model_copy(update={k: Path(str(getattr(cfg, k)).replace(_PACKAGE_DIR, elsewhere)) for k in fields})
    monkeypatch.setattr(build, "_PACKAGE_DIR", elsewhere)
    assert _config_hash(moved) == here
    assert _config_hash(cfg.model_copy(update={"timezone": "UTC"})) != _config_hash(cfg)
