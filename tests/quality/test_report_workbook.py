"""The report's own XLSX writer, read back with openpyxl: values, types, styles, layout."""

import zipfile
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from quality.report.workbook import Style, Workbook, column_letter


def test_values_round_trip_with_their_types(tmp_path):
    wb = Workbook()
    ws = wb.add_sheet("数据 & <x>")
    text = "  a & b < c > d\r\n\t恒通 "
    ws.append(["s", 3, 2.5, Decimal("12.34"), True, None, "", text])
    ws.append([])  # an empty row keeps its place
    ws.append([datetime(2026, 11, 20, 9, 30), date(2026, 1, 2)],
              {1: Style(number_format="yyyy-mm-dd hh:mm"), 2: Style(number_format="yyyy-mm-dd")})
    wb.save(tmp_path / "x.xlsx")
    back = load_workbook(tmp_path / "x.xlsx")
    assert back.sheetnames == ["数据 & <x>"]
    rows = list(back.active.iter_rows(values_only=True))
    assert rows[0] == ("s", 3, 2.5, 12.34, True, None, None, text)
    assert rows[1] == (None,) * 8
    assert rows[2][:2] == (datetime(2026, 11, 20, 9, 30), datetime(2026, 1, 2))
    assert back.active.max_row == 3 and back.active["A3"].number_format == "yyyy-mm-dd hh:mm"


def test_styles_widths_freeze_and_filter(tmp_path):
    wb = Workbook()
    first, second = wb.add_sheet("one"), wb.add_sheet("it's")
    header = Style(fill="1F4E78", bold_color="FFFFFF", vertical="center")
    first.append(["h1", "h2"], {1: header, 2: header})
    first.append(["x", 1234.5], {1: Style(fill="FFC7CE"), 2: Style(number_format="#,##0.00")})
    first.widths, first.freeze, first.auto_filter = {1: 12.0, 2: 30.0}, "A2", True
    second.append(["only"])
    second.auto_filter = True
    wb.save(tmp_path / "x.xlsx")
    back = load_workbook(tmp_path / "x.xlsx")
    ws = back["one"]
    assert ws["A1"].font.bold and ws["A1"].font.color.rgb.endswith("FFFFFF")
    assert ws["A1"].fill.fgColor.rgb.endswith("1F4E78") and ws["A1"].alignment.vertical == "center"
    assert ws["A2"].fill.fgColor.rgb.endswith("FFC7CE") and not ws["B2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["B2"].number_format == "#,##0.00" and not ws["A2"].font.bold
    assert ws.column_dimensions["A"].width == 12 and ws.column_dimensions["B"].width == 30
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:B2"
    assert back["it's"].freeze_panes is None and back["it's"].auto_filter.ref == "A1:A1"
    names = zipfile.ZipFile(tmp_path / "x.xlsx").read("xl/workbook.xml").decode()
    assert "'one'!$A$1:$B$2" in names and "'it''s'!$A$1:$A$1" in names  # Excel's filter ranges


def test_column_letters():
    assert [column_letter(n) for n in (1, 18, 26, 27, 52, 703)] == ["A", "R", "Z", "AA", "AZ", "AAA"]
