"""The declarative mapping engine: strict config, casts, quarantine, findings, hostile text."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from hub_core.schema_unified import data_quality_finding, interaction, mapping_quarantine, receivable, sales_order
from mappings.build import build_customer360
from mappings.declarative.casts import CASTS, CastError
from mappings.declarative.spec import DEFAULT_STREAMS_DIR, load_streams
from tests.mappings.landing import land


@pytest.mark.parametrize("cast,value", [
    ("money", "12,3O0.OO"), ("money", "1e400"), ("money", [1]), ("date", "2026-13-45"), ("date", "2026-02-30"),
    ("int", "3.5"), ("epoch_ms", "soon"), ("epoch_ms", 10**17), ("datetime_local", "yesterday"), ("bool", "maybe"),
    ("mobile", "010-12345678"),
])
def test_bad_values_raise_instead_of_becoming_null(cast, value):
    with pytest.raises(CastError):
        CASTS[cast](value, "Asia/Shanghai")


def test_casts_convert_exactly():
    tz = "Asia/Shanghai"
    assert CASTS["money"]("12,300.005", tz) == 1230001  # half-up
    assert CASTS["money"](25328.75, tz) == 2532875
    assert str(CASTS["epoch_ms_day"](1763566200000, tz)) == "2025-11-19"  # 23:30 in Shanghai
    assert CASTS["datetime_local"]("2025-08-15 17:48:22", tz).isoformat() == "2025-08-15T09:48:22+00:00"
    assert CASTS["int"]("146.00", tz) == 146


def _copy_streams(tmp_path: Path) -> Path:
    folder = tmp_path / "streams"
    folder.mkdir()
    for f in DEFAULT_STREAMS_DIR.glob("*.yaml"):
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_a_misspelled_key_is_an_error(tmp_path):
    folder = _copy_streams(tmp_path)
    path = folder / "u8.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("cast: money", "cats: money", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="cats"):
        load_streams(folder)


def test_unknown_target_column_and_code_table_are_errors(tmp_path):
    folder = _copy_streams(tmp_path)
    (folder / "extra.yaml").write_text(yaml.safe_dump({"streams": [
        {"system": "u8", "stream": "x", "entity": "receipt", "ref": "u8:x:{code}",
         "fields": {"amount_cent": {"source": "amount", "cast": "money"}}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="amount_cent"):
        load_streams(folder)
    (folder / "extra.yaml").write_text(yaml.safe_dump({"streams": [
        {"system": "u8", "stream": "x", "entity": "receipt", "ref": "u8:x:{code}",
         "fields": {"code": {"source": "code", "codes": "nope"}}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="nope"):
        load_streams(folder)


def test_a_new_stream_and_tenant_codes_need_yaml_only(engine, tmp_path):
    folder = _copy_streams(tmp_path)
    codes = folder / "codes.yaml"
    codes.write_text(codes.read_text(encoding="utf-8").replace('"2": won', '"WIN": won'), encoding="utf-8")
    (folder / "payments.yaml").write_text(yaml.safe_dump({"streams": [
        {"system": "crm", "stream": "PaymentObj", "entity": "receipt", "ref": "crm:PaymentObj:{_id}",
         "fields": {"code": {"source": "_id", "required": True},
                    "customer_ref": {"source": "account_id", "template": "crm:AccountObj:{}"},
                    "receipt_day": {"source": "payment_time", "cast": "epoch_ms_day", "required": True},
                    "amount_cents": {"source": "payment_amount", "cast": "money", "required": True}}}]}),
        encoding="utf-8")
    land(engine, "crm", "PaymentObj", ["_id"], [{"_id": "P1", "account_id": "A1", "payment_time": 1763566200000,
                                                 "payment_amount": "88.80"}])
    land(engine, "crm", "NewOpportunityObj", ["_id"], [{"_id": "O1", "sales_status": "WIN"}])
    stats = build_customer360(engine, streams=load_streams(folder))
    from hub_core.schema import stg_opportunity
    from hub_core.schema_unified import receipt

    with engine.connect() as conn:
        assert conn.execute(select(receipt.c.ref, receipt.c.amount_cents)).all() == [("crm:PaymentObj:P1", 8880)]
        assert conn.execute(select(stg_opportunity.c.status)).scalar_one() == "won"
    assert stats.rows["receipt"] == 1


def garbage_world(engine):
    land(engine, "u8", "saleorderlist", ["code"], [
        {"code": "SO1", "date": "2026-11-01", "custcode": "C1", "sum": "12,3O0.OO"},  # required amount: quarantine
        {"code": "SO2", "date": "2026-13-45", "custcode": "C1", "sum": 10},  # required date: quarantine
        {"code": "SO3", "date": "2026-11-02", "custcode": "C1", "sum": 10, "money": "n/a",  # optional: finding
         "entry": [{"inventorycode": "X", "natsum": "bad", "quantity": 1}, "not a line"]},
    ])
    land(engine, "u8", "consignmentlist", [], [{"date": "2026-11-03", "sum": 5}])  # keyless landing, no code
    land(engine, "u8", "oughtreceivelist", ["code"], [
        {"code": "R1", "date": "2026-11-01", "custcode": "C1", "balance": 5, "duedate": "2026-02-30"}])
    land(engine, "crm", "ActiveRecordObj", [], [  # keyless landing: the NUL in the id reaches the mapping
        {"_id": "F\u00001", "account_id": "A\u0000", "create_time": 1763566200000,
         "active_record_content": "客户\u0000来电\u0007" + "长" * 1_000_000},
        {"_id": "F2", "create_time": "2026-13-45 10:00"}])
    land(engine, "wecom", "messages", ["msgid"], [
        {"msgid": "m1", "from": "x\u0000y", "tolist": ["z"], "msgtime": 1763566200000, "text": {"content": "\u0000"}}])


def test_garbage_is_quarantined_or_kept_with_a_finding_never_silently_null(engine):
    garbage_world(engine)
    stats = build_customer360(engine)
    with engine.connect() as conn:
        q = {(r.ref, r.field): r for r in conn.execute(select(mapping_quarantine))}
        findings = {(r.ref, r.field, r.kind) for r in conn.execute(select(data_quality_finding))}
        orders = dict(conn.execute(select(sales_order.c.ref, sales_order.c.net_amount_cents)).all())
        due = conn.execute(select(receivable.c.due_day, receivable.c.balance_cents)).one()
        notes = {r.ref: r for r in conn.execute(select(interaction))}
    bad_amount = q[("u8:saleorderlist:SO1", "amount_cents")]
    assert bad_amount.raw_value == "12,3O0.OO" and "money" in bad_amount.reason
    assert (bad_amount.source, bad_amount.stream, bad_amount.build_id) == ("u8", "saleorderlist", stats.build_id)
    assert q[("u8:saleorderlist:SO2", "order_day")].raw_value == "2026-13-45"
    assert (None, "code") in q  # no record key: quarantined, not dropped
    assert ("u8:saleorderlist:SO3#2", "entry") in q  # a line that is not an object
    assert ("crm:ActiveRecordObj:F2", "occurred_at") in q
    assert orders == {"u8:saleorderlist:SO3": None}
    assert ("u8:saleorderlist:SO3", "net_amount_cents", "cast_failed") in findings
    assert ("u8:saleorderlist:SO3#1", "amount_cents", "cast_failed") in findings
    assert due == (None, 500) and ("u8:oughtreceivelist:R1", "due_day", "cast_failed") in findings
    note = notes["crm:ActiveRecordObj:F1"]  # NUL stripped from the key, the text and the account ref
    assert note.content.startswith("客户来电长") and len(note.content) == 20000
    assert note.customer_ref == "crm:AccountObj:A"
    assert ("crm:ActiveRecordObj:F1", "content", "truncated") in findings
    assert ("crm:ActiveRecordObj:F1", "content", "control_characters") in findings
    assert notes["wecom:messages:m1"].sender_id == "xy" and notes["wecom:messages:m1"].content == ""
    assert stats.quarantined == {"u8.saleorderlist": 3, "u8.consignmentlist": 1, "crm.ActiveRecordObj": 1}
    assert stats.findings_total >= len(findings) > 0


def test_rebuilding_replaces_quarantine_never_accumulates(engine):
    garbage_world(engine)
    first = build_customer360(engine)
    unchanged = build_customer360(engine)  # nothing landed since: nothing re-mapped
    with engine.connect() as conn:
        assert set(conn.execute(select(mapping_quarantine.c.build_id)).scalars()) == {first.build_id}
    full = build_customer360(engine, incremental=False)
    with engine.connect() as conn:
        builds = list(conn.execute(select(mapping_quarantine.c.build_id)).scalars())
    assert unchanged.mode == "unchanged" and full.mode == "full"
    assert set(builds) == {full.build_id} and len(builds) == first.quarantined_total


def test_stream_time_zone_is_configuration(engine, tmp_path):
    folder = _copy_streams(tmp_path)
    path = folder / "u8.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    entity: sales_order\n", "    entity: sales_order\n    timezone: UTC\n"),
                    encoding="utf-8")
    land(engine, "u8", "saleorderlist", ["code"], [{"code": "S1", "date": "2025-08-15", "sum": 1,
                                                   "createsystime": "2025-08-15 17:48:22"}])
    build_customer360(engine, streams=load_streams(folder))
    with engine.connect() as conn:
        created = conn.execute(select(sales_order.c.created_at)).scalar_one()
    assert (created.hour, created.minute) == (17, 48)  # read as UTC, not as Shanghai time
    path.write_text(text.replace("    entity: sales_order\n", "    entity: sales_order\n    timezone: Mars/Base\n"),
                    encoding="utf-8")
    with pytest.raises(ValueError, match="Mars"):
        load_streams(folder)


def test_every_stream_of_a_generated_world_is_mapped_or_deliberately_left_out():
    from simulators.generator import generate

    world, _ = generate(3, customers=8)
    cfg = load_streams()
    missing = [f"{system}.{stream}" for system in ("crm", "u8", "finance", "wecom") for stream in world[system]
               if not cfg.covers(system, stream)]
    assert missing == []


def test_huge_values_in_indexed_columns_are_capped(engine):
    huge = "长" * 3000  # 9 kB in UTF-8: beyond a PostgreSQL b-tree entry
    land(engine, "u8", "consignmentlist", ["code"], [{"code": "D1", "date": "2026-11-01", "entry": [{"socode": huge}]}])
    land(engine, "u8", "inventory", ["code"], [{"code": "I1", "name": "x"}])
    land(engine, "u8", "currentstock", ["whcode", "invcode"], [{"whcode": "01", "invcode": "I1", "qty": 1}])
    land(engine, "wecom", "messages", ["msgid"], [{"msgid": "m1", "from": huge, "tolist": [huge], "msgtime": 1763566200000}])
    build_customer360(engine)
    from hub_core.schema_unified import dispatch_line

    with engine.connect() as conn:
        order_ref = conn.execute(select(dispatch_line.c.order_ref)).scalar_one()
        contact_ref = conn.execute(select(interaction.c.contact_ref)).scalar_one()
        kinds = set(conn.execute(select(data_quality_finding.c.kind)).scalars())
    assert order_ref == "u8:saleorderlist:" + "长" * 200
    assert len(contact_ref) < 300 and "truncated" in kinds
