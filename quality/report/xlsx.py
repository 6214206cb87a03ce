"""report.xlsx for managers: a summary sheet, all items, one sheet per rule and one per owner.

Written by ``workbook`` (a small SpreadsheetML writer: openpyxl's own cost about 0.1 ms per cell
here); the tests read it back with openpyxl.

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
from quality.report.workbook import Row, Sheet, Style, Workbook

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
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# the characters XML 1.0 cannot carry (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE, whose import
# would pull in openpyxl - and numpy - for one regular expression)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def clean(value):
    """Control characters from source data are illegal in XLSX: drop them, not the report."""
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


HEADER = Style(fill=HEADER_FILL, bold_color="FFFFFF", vertical="center")
ITEM_FORMATS = {7: AMOUNT_FORMAT, 9: "0", 12: DATETIME_FORMAT, 15: DATE_FORMAT}
_FORMATS = {f: Style(number_format=f) for f in (AMOUNT_FORMAT, DATETIME_FORMAT, DATE_FORMAT, "0")}
_SEVERITY_STYLES = {k: Style(fill=v) for k, v in SEVERITY_FILLS.items()}


class _Sheet:
    """Write rows while remembering the widest value per column."""

    def __init__(self, ws: Sheet):
        self.ws = ws
        self.widths: dict[int, int] = {}

    @property
    def rows(self) -> int:
        return self.ws.count

    def header(self, labels: list[str]) -> None:
        labels = [clean(x) for x in labels]
        self.ws.append(labels, {c: HEADER for c in range(1, len(labels) + 1)})
        self._measure(labels)

    def row(self, values: list, formats: dict[int, str] | None = None) -> None:
        values = [clean(v) for v in values]
        self.ws.append(values, {c: _FORMATS.get(f) or Style(number_format=f) for c, f in (formats or {}).items()})
        self._measure(values)

    def note(self, text: str) -> None:
        """A sentence in column A, left to overflow into the empty cells beside it (not measured, so
        one long line does not widen the column of the table above)."""
        self.ws.append([clean(text)])

    def _measure(self, values: list) -> None:
        for col, v in enumerate(values, start=1):
            if v is not None:
                self.widths[col] = max(self.widths.get(col, 0), display_width(v))

    def finish(self, filter_header: bool = True) -> None:
        self.ws.widths = {col: min(width + 2, _MAX_WIDTH) for col, width in self.widths.items()}
        if filter_header:
            self.ws.freeze = "A2"
            self.ws.auto_filter = True


def _item_rows(wb: Workbook, items: list[dict], m: Messages) -> dict[int, tuple[Row, list[int]]]:
    """Per item (by ``id``): its row and its cells' display widths - made once, though the row
    appears on three sheets (all items, its rule, its owner)."""
    out = {}
    known: dict = {}  # (type, value) -> (cleaned value, display width): names, titles, regions repeat
    cells: dict = {}  # the workbook's memo of cells made
    base = {c: _FORMATS[f] for c, f in ITEM_FORMATS.items()}
    by_severity = {k: base | {2: style} for k, style in _SEVERITY_STYLES.items()}
    for i in items:
        values, widths = [], []
        for v in _item_values(i, m):
            key = (type(v), v)  # 12 and 12.0 are equal keys but measure 2 and 5 columns
            hit = known.get(key)
            if hit is None:
                cleaned = clean(v)
                hit = known[key] = (cleaned, 0 if cleaned is None else display_width(cleaned))
            values.append(hit[0])
            widths.append(hit[1])
        out[id(i)] = (wb.prepare(values, by_severity.get(i["severity"], base), cells), widths)
    return out


def _items_sheet(wb: Workbook, title: str, items: list[dict], m: Messages, rows: dict) -> None:
    sheet = _Sheet(wb.add_sheet(title))
    sheet.header([m(f"cols.{c}") for c in ITEM_COLUMNS])
    made = [rows[id(i)] for i in items]
    for row, _ in made:
        sheet.ws.append(row)
    for col, width in enumerate(map(max, zip(*(w for _, w in made), strict=True)), start=1):
        if width > sheet.widths.get(col, 0):
            sheet.widths[col] = width
    sheet.finish()


def _summary_sheet(ws: Sheet, d: ReportData, m: Messages) -> None:
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
    ws.freeze = "A2"


def write_xlsx(path: Path, d: ReportData, m: Messages) -> None:
    """Write the workbook to ``path``."""
    wb = Workbook()
    taken: set[str] = set()
    _summary_sheet(wb.add_sheet(sheet_title(m("sheets.summary"), taken)), d, m)
    rows = _item_rows(wb, d.items, m)
    _items_sheet(wb, sheet_title(m("sheets.all"), taken), d.items, m, rows)
    by_rule: dict[str, list[dict]] = {}
    by_owner: dict[str, list[dict]] = {}
    for i in d.items:  # one pass, in the order of d.items, instead of one scan per sheet
        by_rule.setdefault(i["rule"], []).append(i)
        by_owner.setdefault(i["owner"] or "", []).append(i)
    for r in d.rollups["rule"]:
        _items_sheet(wb, sheet_title(r["key"], taken), by_rule.get(r["key"], []), m, rows)
    for r in sorted(d.rollups["owner"], key=lambda r: r["key"]):
        _items_sheet(wb, sheet_title(m("sheets.owner_prefix") + (r["key"] or "-"), taken), by_owner.get(r["key"], []),
                     m, rows)
    wb.save(path)
