"""Employees across CRM, U8 and WeCom: linked by mobile, with IT overrides from YAML."""

from sqlalchemy import select

from hub_core.schema_unified import employee, employee_account, opportunity
from mappings.build import build_customer360
from mappings.config import load_mapping
from tests.mappings.landing import land


def people(engine):
    land(engine, "crm", "PersonnelObj", ["_id"], [
        {"_id": "1", "name": "王芳", "mobile": "13800000001", "main_department": "华东大区", "leader_id": "2"},
        {"_id": "2", "name": "李强", "mobile": "13800000002", "main_department": "华北大区"},
        {"_id": "3", "name": "赵敏", "mobile": "13800000003", "main_department": "华南大区"}])
    land(engine, "u8", "person", ["code"], [
        {"code": "P01", "name": "王芳", "mobile": "+86 138 0000 0001"},
        {"code": "P03", "name": "赵敏", "mobile": "13900000009"},  # another phone in U8
        {"code": "P09", "name": "共用", "mobile": "13800000002"}])  # a shared phone
    land(engine, "wecom", "follow_users", ["userid"], [{"userid": "zhaomin", "name": "赵敏", "mobile": "13900000009"}])
    land(engine, "crm", "NewOpportunityObj", ["_id"], [{"_id": "O1", "owner": ["1"]}, {"_id": "O2", "owner": ["99"]}])


def rows(engine):
    with engine.connect() as conn:
        emps = {r.employee_id: r for r in conn.execute(select(employee))}
        accounts = dict(conn.execute(select(employee_account.c.ref, employee_account.c.employee_id)).all())
        owners = dict(conn.execute(select(opportunity.c.ref, opportunity.c.owner_employee_id)).all())
    return emps, accounts, owners


def test_linked_by_mobile(engine):
    people(engine)
    build_customer360(engine)
    emps, accounts, owners = rows(engine)
    assert accounts["u8:person:P01"] == accounts["crm:PersonnelObj:1"] == "crm:1"
    assert emps["crm:1"].manager_employee_id == "crm:2" and emps["crm:1"].u8_code == "P01"
    assert accounts["u8:person:P09"] == "crm:2"  # same mobile: merged unless IT says otherwise
    assert accounts["u8:person:P03"] == accounts["wecom:follow_users:zhaomin"] == "u8:P03"  # not linked to crm:3
    assert owners == {"crm:NewOpportunityObj:O1": "crm:1", "crm:NewOpportunityObj:O2": None}


def test_it_overrides_from_yaml(engine, tmp_path):
    (tmp_path / "employees.yaml").write_text(
        "same_person: [[crm:PersonnelObj:3, u8:person:P03]]\n"
        "never_link_by_mobile: [u8:person:P09]\n"
        "people: [{account: u8:person:P03, region: 西南大区, manager_account: crm:PersonnelObj:1}]\n", encoding="utf-8")
    cfg = load_mapping()
    cfg.employee_overrides = tmp_path / "employees.yaml"
    people(engine)
    build_customer360(engine, mapping=cfg)
    emps, accounts, _ = rows(engine)
    assert accounts["u8:person:P03"] == accounts["wecom:follow_users:zhaomin"] == accounts["crm:PersonnelObj:3"]
    zhao = emps["crm:3"]
    assert (zhao.region, zhao.manager_employee_id, zhao.linked_by) == ("西南大区", "crm:1", "override")
    assert accounts["u8:person:P09"] == "u8:P09"  # the shared phone no longer merges
