"""The managers' workbook, read back with openpyxl: sheets, real types, fills, widths, filters."""

import json
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import insert

from hub_core.schema import discrepancy
from quality.report import write_report
from quality.report.i18n import messages
from quality.report.xlsx import ITEM_COLUMNS, SEVERITY_FILLS, display_width, sheet_title
from tests.quality.report_seed import AS_OF, HOSTILE, seed


def test_workbook_layout_types_and_styles(engine, tmp_path):
    seed(engine, items=30)
    d = write_report(engine, tmp_path).data
    m = messages("zh")
    wb = load_workbook(tmp_path / "report.xlsx")
    owners = sorted({i["owner"] for i in d.items})
    rules = sorted({i["rule"] for i in d.items}, key=lambda r: int(r[1:]))
    assert wb.sheetnames == ["汇总", "全部明细", *rules, *(f"负责人-{o}" for o in owners)]
    ws = wb["全部明细"]
    assert [c.value for c in ws[1]] == [m(f"cols.{c}") for c in ITEM_COLUMNS]
    assert ws.max_row == len(d.items) + 1
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(ITEM_COLUMNS)).column_letter}{ws.max_row}"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E78")
    col = {name: n + 1 for n, name in enumerate(ITEM_COLUMNS)}
    for row in range(2, ws.max_row + 1):
        amount = ws.cell(row, col["amount"])
        assert isinstance(amount.value, float) and amount.number_format == "#,##0.00"
        assert isinstance(ws.cell(row, col["age_days"]).value, int)
        assert isinstance(ws.cell(row, col["first_seen"]).value, datetime)
        severity = next(k for k in SEVERITY_FILLS if m.word("severity", k) == ws.cell(row, col["severity"]).value)
        assert ws.cell(row, col["severity"]).fill.fgColor.rgb.endswith(SEVERITY_FILLS[severity])
    first = d.items[0]
    assert abs(ws.cell(2, col["amount"]).value - float(first["amount"])) < 0.005
    assert abs(ws.cell(2, col["first_seen"]).value - first["first_seen_local"].replace(tzinfo=None)) < timedelta(seconds=1)
    r1_rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "R1"]
    assert all(isinstance(r[col["close_date"] - 1], datetime) for r in r1_rows)
    # widths fit the longest Chinese name (wide characters count double)
    longest = max(display_width(i["customer_name"]) for i in d.items)
    assert ws.column_dimensions["D"].width >= min(longest, 58)
    assert ws.column_dimensions["A"].width < 12
    # one sheet per rule holds exactly that rule's items
    for rule in rules:
        values = [r[0] for r in wb[rule].iter_rows(min_row=2, values_only=True)]
        assert values and set(values) == {rule}
    summary = wb["汇总"]
    assert summary["A2"].value == m("kpi.open") and summary["B2"].value == len(d.items)
    assert abs(summary["C2"].value - d.total_cents / 100) < 0.01 and summary["C2"].number_format == "#,##0.00"


def test_control_characters_and_bad_sheet_names_from_source_data(engine, tmp_path):
    seed(engine, items=3)
    as_of = AS_OF.astimezone(UTC)
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), {
            "discrepancy_id": "R6|crm:AccountObj:x", "rule": "R6", "severity": "yellow", "customer_id": None,
            "customer_name": HOSTILE, "owner": "渠道/大客户部[华东]:张*三?\x07" + "很长" * 20, "region": "华东\x0b大区",
            "amount_cents": 0, "refs": json.dumps(["crm:AccountObj:x"]), "first_seen": as_of - timedelta(days=1),
            "last_seen": as_of, "resolved_at": None, "status": "open"})
    write_report(engine, tmp_path, lang="en")
    wb = load_workbook(tmp_path / "report.xlsx")
    owner_sheets = [s for s in wb.sheetnames if s.startswith("owner-渠道")]
    assert len(owner_sheets) == 1 and len(owner_sheets[0]) <= 31
    assert not set("[]:*?/\\\x07") & set(owner_sheets[0])
    ws = wb[owner_sheets[0]]
    assert ws["D2"].value == "<script>alert(1)</script>恒通建材|分公司\n" and ws["F2"].value == "华东大区"


def test_sheet_titles_are_unique_and_legal():
    taken = set()
    assert sheet_title("R1", taken) == "R1" and sheet_title("r1", taken) == "r1~2"
    long = sheet_title("负责人-" + "王" * 40, taken)
    assert len(long) == 31 and sheet_title("负责人-" + "王" * 40, taken) == long[:29] + "~2"
    assert display_width("恒通建材ab") == 10
