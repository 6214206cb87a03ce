"""report.xlsx for managers: a summary sheet, all items, one sheet per rule and one per owner.

Cells hold real numbers and dates (sortable, summable), amounts show thousands separators,
columns are wide enough for Chinese names (wide characters count double), headers are styled,
filterable and frozen, and the severity cell is filled red / orange / yellow.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path

from quality.report.data import ReportData
from quality.report.i18n import Messages

AMOUNT_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
SEVERITY_FILLS = {"red": "FFC7CE", "orange": "FFD8A8", "yellow": "FFF2A8"}
HEADER_FILL = "1F4E78"
ITEM_COLUMNS = ["rule", "severity", "customer_id", "customer", "owner", "region", "amount", "manager", "age_days",
                "change", "status", "first_seen", "deal", "stage", "close_date", "documents", "refs", "rule_title"]
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


def display_width(value) -> int:
    """Columns a value needs: East-Asian wide and full-width characters count as 2."""
    if isinstance(value, datetime):
        return 16
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clean(value):
    """Control characters from source data are illegal in XLSX: drop them, not the report."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def sheet_title(name: str, taken: set[str]) -> str:
    """A legal, unique sheet name (<= 31 characters, none of []:*?/\\)."""
    base = clean(_BAD_TITLE.sub("_", name)).strip("'")[:31] or "_"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f"~{n}"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment else None  # already local wall-clock time


def _item_values(i: dict, m: Messages) -> list:
    return [i["rule"], m.word("severity", i["severity"]), i["customer_id"], i["customer_name"] or m("unmatched"),
            i["owner"], i["region"], float(i["amount"]), i["manager"], i["age_days"], m.word("change", i["change"]),
            m.word("status", i["status"]), _naive(i["first_seen_local"]), i["deal"], m.word("stage", i["stage"]) or None,
            i["close_date"], i["documents"] or None, " ".join(i["refs"]), m.rule(i["rule"])]


class _Sheet:
    """Write rows while remembering the widest value per column."""

    def __init__(self, ws):
        self.ws = ws
        self.rows = 0  # our own count: openpyxl's max_row scans every cell (quadratic over a sheet)
        self.widths: dict[int, int] = {}

    def header(self, labels: list[str]) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws.append([clean(x) for x in labels])
        self.rows += 1
        for cell in self.ws[self.rows]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            cell.alignment = Alignment(vertical="center")
        self._measure(labels)

    def row(self, values: list, formats: dict[int, str] | None = None) -> None:
        self.ws.append([clean(v) for v in values])
        self.rows += 1
        for col, fmt in (formats or {}).items():
            self.ws.cell(row=self.rows, column=col).number_format = fmt
        self._measure(values)

    def note(self, text: str) -> None:
        """A sentence in column A, left to overflow into the empty cells beside it (not measured, so
        one long line does not widen the column of the table above)."""
        self.ws.append([clean(text)])
        self.rows += 1

    def _measure(self, values: list) -> None:
        for col, v in enumerate(values, start=1):
            if v is not None:
                self.widths[col] = max(self.widths.get(col, 0), display_width(v))

    def finish(self, filter_header: bool = True) -> None:
        from openpyxl.utils import get_column_letter

        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = min(width + 2, _MAX_WIDTH)
        if filter_header:
            self.ws.freeze_panes = "A2"
            self.ws.auto_filter.ref = self.ws.dimensions


def _items_sheet(wb, title: str, items: list[dict], m: Messages) -> None:
    from openpyxl.styles import PatternFill

    sheet = _Sheet(wb.create_sheet(title))
    sheet.header([m(f"cols.{c}") for c in ITEM_COLUMNS])
    formats = {7: AMOUNT_FORMAT, 9: "0", 12: DATETIME_FORMAT, 15: DATE_FORMAT}
    for i in items:
        sheet.row(_item_values(i, m), formats)
        fill = SEVERITY_FILLS.get(i["severity"])
        if fill:
            sheet.ws.cell(row=sheet.rows, column=2).fill = PatternFill("solid", fgColor=fill)
    sheet.finish()


def _summary_sheet(ws, d: ReportData, m: Messages) -> None:
    sheet = _Sheet(ws)
    sheet.header([m("kpi.metric") or m("cols.rule"), m("kpi.count"), m("kpi.amount")])
    c = d.counts
    for key, count, cents in (("open", c["open"], d.total_cents), ("new", c["new"], c["cents"]["new"]),
                              ("persisting", c["persisting"], c["cents"]["persisting"]),
                              ("resolved", c["resolved"], c["cents"]["resolved"])):
        sheet.row([m(f"kpi.{key}"), count, cents / 100], {3: AMOUNT_FORMAT})
    sheet.row([m("as_of"), _naive(d.as_of)], {2: DATETIME_FORMAT})
    sheet.row([m("window"), _naive(d.since), _naive(d.as_of)], {2: DATETIME_FORMAT, 3: DATETIME_FORMAT})
    sheet.row([m("sections.held_back"), ", ".join(d.held_back) or m("none")])
    for dim in ("rule", "region", "manager", "owner"):
        sheet.row([])
        sheet.header([m(f"cols.{dim}"), m("cols.count"), m("cols.amount"), m("cols.red"), m("cols.orange"),
                      m("cols.yellow")] + ([m("cols.rule_title")] if dim == "rule" else []))
        for r in d.rollups[dim]:
            extra = [m.rule(r["key"])] if dim == "rule" else []
            sheet.row([r["key"] or "-", r["count"], r["cents"] / 100, r["red"], r["orange"], r["yellow"], *extra],
                      {3: AMOUNT_FORMAT})
    sheet.row([])
    sheet.header([m("cols.source"), m("cols.last_success"), m("cols.freshness_hours"), m("cols.last_status"),
                  m("cols.landed"), m("cols.rejected")])
    for s in d.sources:
        sheet.row([s["source"], _naive(s["last_success"]), s["age_hours"], m.word("status", s["status"]),
                   s["landed"], s["rejected"]], {2: DATETIME_FORMAT})
    # A source whose last pass was too small to believe kept its data: say so next to its row.
    for s in d.sources:
        if s.get("withheld"):
            sheet.note(m("deletions_withheld", source=s["source"], count=s["withheld"]))
    sheet.finish(filter_header=False)
    ws.freeze_panes = "A2"


def write_xlsx(path: Path, d: ReportData, m: Messages) -> None:
    """Write the workbook to ``path``."""
    from openpyxl import Workbook

    wb = Workbook()
    taken: set[str] = set()
    summary = wb.active
    summary.title = sheet_title(m("sheets.summary"), taken)
    _summary_sheet(summary, d, m)
    _items_sheet(wb, sheet_title(m("sheets.all"), taken), d.items, m)
    for r in d.rollups["rule"]:
        _items_sheet(wb, sheet_title(r["key"], taken), [i for i in d.items if i["rule"] == r["key"]], m)
    for r in sorted(d.rollups["owner"], key=lambda r: r["key"]):
        rows = [i for i in d.items if (i["owner"] or "") == r["key"]]
        _items_sheet(wb, sheet_title(m("sheets.owner_prefix") + (r["key"] or "-"), taken), rows, m)
    wb.save(path)
