"""Building the customer-360 from landed records, including hostile values, on both backends."""

import json

from sqlalchemy import select

from connectors.landing import SingerLoader
from hub_core.schema import customer_xref, stg_customer_record, stg_opportunity
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
        assert conn.execute(select(stg_customer_record.c.name)).scalar_one() == "恒通建材有限公司"  # the newest
