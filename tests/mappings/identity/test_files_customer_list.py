"""A spreadsheet customer list (tap-files, stream customer_list) takes part in matching: a row
with a known credit code or name joins its customer, an unknown one is a customer of its own.
Declared in identity.yaml only (source field names never in Python); R6 keeps comparing the
spec's CRM, U8 and finance records."""

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from connectors.landing import SingerLoader
from connectors.tap_files.tap import TapFiles
from hub_core.schema import customer, customer_xref, discrepancy
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from quality.reconcile import reconcile
from tests.connectors.helpers import sync_tap
from tests.connectors.test_tap_files import write_csv
from tests.mappings.landing import land

CODE_A = "91110108551385082Q"
HEADERS = ["客户编码", "客户名称", "统一社会信用代码", "客户简称", "联系人", "手机", "地址", "所属行业", "业务员"]
ROWS = [
    ["L1", "北京恒通建材股份公司", CODE_A, "", "", "", "", "", "王芳"],     # the CRM account's code, another legal form
    ["L2", "苏州百川贸易有限公司", "", "百川", "李四", "139 1234 5678", "", "", ""],  # no code: the U8 customer's name
    ["L3", "杭州新立方软件有限公司", "", "", "", "", "西湖区文三路1号", "软件", ""],  # nobody knows it
]


def _land_sources(engine, folder):
    land(engine, "crm", "AccountObj", ["_id"], [{"_id": "A1", "name": "北京恒通建材有限公司", "uscc__c": CODE_A}])
    land(engine, "u8", "customer", ["code"], [{"code": "U1", "name": "苏州百川贸易有限公司", "mobile": "13912345678"}])
    write_csv(folder / "customers" / "list.csv", HEADERS, ROWS)
    result = sync_tap(TapFiles, {"folder": str(folder), "streams": [{"name": "customer_list", "pattern": "customers/*.csv"}]})
    assert [r["code"] for r in result.records["customer_list"]] == ["L1", "L2", "L3"]
    lines = [m for m in result.messages if m["type"] in ("SCHEMA", "RECORD")]
    SingerLoader(engine, "files", 1).feed([json.dumps(m, ensure_ascii=False) for m in lines])


def test_customer_list_rows_join_their_customers_or_make_new_ones(engine, tmp_path):
    _land_sources(engine, tmp_path / "drop")
    with engine.begin() as conn:
        stats = resolve_customers(conn, load_mapping(), None)
    with engine.connect() as conn:
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        names = dict(conn.execute(select(customer.c.customer_id, customer.c.name)).all())
    assert stats.records == 5 and stats.customers == 3
    assert xref["files:customer_list:L1"] == xref["crm:AccountObj:A1"]  # same credit code
    assert xref["files:customer_list:L2"] == xref["u8:customer:U1"]  # same name key, no code
    new = xref["files:customer_list:L3"]
    assert new not in {xref["crm:AccountObj:A1"], xref["u8:customer:U1"]}
    assert names[new] == "杭州新立方软件有限公司"
    assert names[xref["crm:AccountObj:A1"]] == "北京恒通建材有限公司"  # CRM's name survives the list's


def test_r6_compares_only_crm_u8_and_finance(engine, tmp_path):
    """The list spells 恒通 with another legal form: no R6 item for that (R6 compares CRM, U8 and
    finance names); U1 (U8, no CRM account) still is one, anchored on U1 as before."""
    _land_sources(engine, tmp_path / "drop")
    with engine.begin() as conn:
        resolve_customers(conn, load_mapping(), None)
    reconcile(engine, as_of=datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8))), rules=["R6"])
    with engine.connect() as conn:
        items = conn.execute(select(discrepancy.c.refs).where(discrepancy.c.rule == "R6")).scalars().all()
    assert [json.loads(refs)[0] for refs in items] == ["u8:customer:U1"]
