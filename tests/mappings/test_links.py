"""Contacts that only name their company reach the customer that name fits, as customers match."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from hub_core.schema import customer_xref
from hub_core.schema_unified import contact
from mappings import links
from mappings.build import build_customer360
from tests.mappings.landing import land

T = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def wecom_contact(ext, corp=None, remark=None):
    follow = {"userid": "wangfang", "createtime": 1760000000}
    if remark:
        follow["remark_corp_name"] = remark
    person = {"external_userid": ext, "name": f"联系人{ext}"}
    if corp:
        person["corp_full_name"] = corp
    return {"external_userid": ext, "userid": "wangfang", "external_contact": person, "follow_info": follow}


@pytest.mark.parametrize("batch", [2000, 1])  # contacts staged, read and written a batch at a time
def test_contacts_link_by_name_key_with_compatible_places(engine, monkeypatch, batch):
    monkeypatch.setattr(links, "BATCH", batch)
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "诺泽机电集团有限公司"},
        {"_id": "A2", "name": "湖南和美钢结构有限公司"},
        {"_id": "A3", "name": "北京宏达建材有限公司"},
        {"_id": "A4", "name": "上海宏达建材有限公司"}])
    land(engine, "wecom", "external_contacts", ["external_userid", "userid"], [
        wecom_contact("e1", corp="绵阳诺泽机电集团有限公司"),  # city prefix the account does not write
        wecom_contact("e2", corp="和美钢结构有限公司"),  # the account writes its province, the contact not
        wecom_contact("e3", corp="长沙和美钢结构有限公司"),  # a city of the account's province
        wecom_contact("e4", corp="广州和美钢结构有限公司"),  # an explicit other city: not this customer
        wecom_contact("e5", remark="绵阳诺泽机电"),  # no corp_full_name: the remark's company
        wecom_contact("e6", corp="宏达建材有限公司"),  # fits two customers: linked to neither
        wecom_contact("e7", corp="深圳宏达建材有限公司"),  # fits neither city
        wecom_contact("e8", corp="北京宏达建材有限公司")])  # the exact name
    build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        cid = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        linked = dict(conn.execute(select(contact.c.ref, contact.c.customer_id)).all())
    account = {a: cid[f"crm:AccountObj:{a}"] for a in ("A1", "A2", "A3", "A4")}
    assert len(set(account.values())) == 4
    got = {ref.rsplit(":", 1)[1]: c for ref, c in linked.items()}
    assert got == {"e1": account["A1"], "e2": account["A2"], "e3": account["A2"], "e4": None,
                   "e5": account["A1"], "e6": None, "e7": None, "e8": account["A3"]}


def test_an_incremental_build_rewrites_only_the_contacts_whose_customer_changed(engine):
    """Contacts linked by company name keep their rows when nothing about them changed (an
    incremental build used to reset every one of them and link it again, one statement each);
    one whose company's customer changed follows it."""
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "诺泽机电集团有限公司"}, {"_id": "A2", "name": "湖南和美钢结构有限公司"}])
    land(engine, "wecom", "external_contacts", ["external_userid", "userid"], [
        wecom_contact("e1", corp="诺泽机电集团有限公司"), wecom_contact("e2", corp="湖南和美钢结构有限公司")])
    build_customer360(engine, as_of=T)
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A2", "name": "湖南新和美钢结构有限公司"}], run_id=2)
    written = []

    @event.listens_for(engine, "before_cursor_execute")
    def spy(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE CONTACT"):
            written.append(len(parameters) if executemany else 1)

    assert build_customer360(engine, as_of=T).mode == "incremental"
    event.remove(engine, "before_cursor_execute", spy)
    with engine.connect() as conn:
        linked = {ref.rsplit(":", 1)[1]: c for ref, c in conn.execute(select(contact.c.ref, contact.c.customer_id))}
        a1 = conn.execute(select(customer_xref.c.customer_id).where(customer_xref.c.ref == "crm:AccountObj:A1")).scalar()
    assert linked == {"e1": a1, "e2": None}  # e2's company no longer names a customer
    assert sum(written) == 1  # e2 alone: e1 was not rewritten


def test_contacts_link_again_on_a_connection_whose_build_was_rolled_back(engine):
    """The temporary table of contacts by company name may outlive a rolled-back build on a pooled
    SQLite connection: the next build on it must not trip over it."""
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A1", "name": "诺泽机电集团有限公司"}])
    land(engine, "wecom", "external_contacts", ["external_userid", "userid"],
         [wecom_contact("e1", corp="绵阳诺泽机电集团有限公司")])
    build_customer360(engine, as_of=T)
    with engine.connect() as conn:
        for _ in range(2):
            trans = conn.begin()
            links.link_contacts(conn)
            trans.rollback()
        linked = conn.execute(select(contact.c.customer_id)).scalar_one()
    assert linked is not None
