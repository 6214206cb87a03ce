"""report.xlsx for managers: a summary sheet, all items, one sheet per rule and one per owner.

Written by ``workbook`` (a small SpreadsheetML writer: openpyxl's own cost about 0.1 ms per cell
here); the tests read it back with openpyxl. The item sheets are streamed into the package: each
item's row is made once into a temporary file, then copied onto its three sheets, so memory does
not grow with the rows (a 100k-customer world's 147k items are ~440k rows).

Cells hold real numbers and dates (sortable, summable), amounts show thousands separators,
columns are wide enough for Chinese names (wide characters count double), headers are styled,
filterable and frozen, and the severity cell is filled red / orange / yellow.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from array import array
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from quality.report.data import ReportData
from quality.report.i18n import Messages
from quality.report.items import OpenItem
from quality.report.texts import seen_local
from quality.report.workbook import _LETTERS, Sheet, Style, Workbook, _cell_tail

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


_MEMO_MAX = 8192  # values remembered with their cells; names and refs are mostly unique, so bounded
_SPILL_FLUSH = 1 << 20  # bytes of rows gathered before they go to the temporary file
_READ_ROWS, _READ_SPAN = 256, 1 << 20  # a sheet's rows read back 256 at a time, in one read if within 1 MB
_COLUMNS = range(len(ITEM_COLUMNS))
_REFS = ITEM_COLUMNS.index("refs")
# A column is at most _MAX_WIDTH wide, header and padding included: a cell's width counts up to
# _WIDEST (so it fits a byte; the sheet's width is the same), kept per sheet as a byte per cell,
# folded into one row of maxima every _WIDTHS_KEPT bytes.
_WIDEST = _MAX_WIDTH - 2
_WIDTH_COLUMNS = len(ITEM_COLUMNS)
_WIDTHS_KEPT = _WIDTH_COLUMNS * 512


class _ItemRows:
    """Each item's row XML, made once though the row appears on three sheets (all items, its
    rule, its owner), kept in a temporary file rather than in memory (about 1 KB an item), with
    the widest value per column of each sheet the item appears on.

    An ``OpenItem`` (what ``gather`` gives) has its cells made column by column from its fields,
    each column remembering the cell XML and width it made per field value (a rule, severity,
    owner, amount, age or first-seen time repeats across items): the same XML as the general
    path (``_item_values`` + ``Workbook.prepare``, still used for any other item), tested equal,
    at a fraction of its cost per item."""

    def __init__(self, wb: Workbook, m: Messages, spill):
        self.wb, self.m, self.spill = wb, m, spill
        self.offsets = array("q")
        self.sizes = array("l")
        self.known: dict = {}  # (type, value) -> (cleaned value, display width): names, titles, regions repeat
        self.cells: dict = {}  # the workbook's memo of cells made
        base = {c: _FORMATS[f] for c, f in ITEM_FORMATS.items()}
        self.base = base
        self.by_severity = {k: base | {2: style} for k, style in _SEVERITY_STYLES.items()}
        self.position = self.written = 0  # bytes of rows made, of them in the file
        self.pending: list[bytes] = []  # rows made, not yet in the file
        word = m.word
        # per column: the field value -> its value in the sheet (``_item_values``, column by column)
        self.columns = (
            lambda rule: rule, lambda severity: word("severity", severity), lambda cid: cid,
            lambda name: name or m("unmatched"), lambda owner: owner, lambda region: region,
            lambda cents: float(Decimal(cents) / 100), lambda manager: manager, lambda age: age,
            lambda change: word("change", change), lambda status: word("status", status),
            lambda first: _naive(seen_local(first)), lambda deal: deal, lambda stage: word("stage", stage) or None,
            lambda close: close, lambda documents: documents or None, " ".join, m.rule)
        self.memos: list[dict] = [{} for _ in self.columns]
        self.remembered = 0  # cells in the memos, all columns together

    def _cell(self, column: int, field) -> tuple[str, int]:
        """Column ``column``'s (0-based) cell for this field value: its XML, cut before the row
        number like ``Workbook.prepare``'s parts (``""`` for no cell), and its display width;
        remembered for the next item with that value (not for refs: each item's own)."""
        value = clean(self.columns[column](field))
        width = 0 if value is None else min(display_width(value), _WIDEST)
        if value is None or value == "":
            hit = ("", width)
        else:
            # registered on first use, as ``prepare`` does (the style ids, hence the XML, are the same)
            styles = self.by_severity.get(field, self.base) if column == 1 else self.base  # severity: its fill
            style = self.wb.style_id(styles[column + 1]) if column + 1 in styles else 0
            hit = (f'<c r="{_LETTERS[column + 1]}\0{_cell_tail(value, style)}', width)
        if column != _REFS:
            self.remembered += 1
            if self.remembered > 2 * _MEMO_MAX:  # as many cells as the general path's two memos hold
                for memo in self.memos:
                    memo.clear()
                self.remembered = 1
            self.memos[column][field] = hit
        return hit

    def _open_item(self, i: OpenItem) -> tuple[str, bytes]:
        """``i``'s row XML with NULs for its row number, and its cells' widths."""
        (rule, severity, cid, name, owner, region, cents, refs, first, status, manager, deal, stage, close, documents,
         age, change) = i
        cell = self._cell
        hits = [memo.get(field) or cell(column, field) for column, memo, field in zip(
            _COLUMNS, self.memos, (rule, severity, cid, name, owner, region, cents, manager, age, change, status,
                                   first, deal, stage, close, documents, refs, rule))]
        cells = "".join([hit[0] for hit in hits])
        return ('<row r="\0">' + cells + "</row>") if cells else "", bytes([hit[1] for hit in hits])

    def _general(self, i) -> tuple[str, bytes]:
        """Any item's row XML (NULs for its row number) and widths: each value cleaned and
        measured, then ``Workbook.prepare``."""
        if len(self.known) > _MEMO_MAX:
            self.known.clear()
        if len(self.cells) > _MEMO_MAX:
            self.cells.clear()
        known = self.known
        values, widths = [], []
        for v in _item_values(i, self.m):
            key = (type(v), v)  # 12 and 12.0 are equal keys but measure 2 and 5 columns
            hit = known.get(key)
            if hit is None:
                cleaned = clean(v)
                hit = known[key] = (cleaned, 0 if cleaned is None else display_width(cleaned))
            values.append(hit[0])
            widths.append(hit[1])
        row = self.wb.prepare(values, self.by_severity.get(i["severity"], self.base), self.cells)
        return (('<row r="\0">' + "\0".join(row.parts) + "</row>") if len(row.parts) > 1 else "",
                bytes(min(w, _WIDEST) for w in widths))

    def add(self, i) -> bytes:
        """Make ``i``'s row (the next index); its cells' display widths (up to ``_WIDEST``)."""
        row, widths = self._open_item(i) if type(i) is OpenItem else self._general(i)
        # the row numbers go where the NULs are (XML cannot carry a NUL: ``clean`` drops them)
        data = row.encode()
        self.pending.append(data)
        self.offsets.append(self.position)
        self.sizes.append(len(data))
        self.position += len(data)
        if self.position - self.written > _SPILL_FLUSH:
            self._flush()
        return widths

    def _flush(self) -> None:
        self.spill.write(b"".join(self.pending))
        self.pending.clear()
        self.written = self.position

    def rows(self, indices) -> Iterator[bytes]:
        """The rows of these items (positions in increasing order), numbered from 2 (below the header)."""
        self._flush()
        self.spill.flush()
        fd = self.spill.fileno()
        offsets, sizes = self.offsets, self.sizes
        n = 2
        for start in range(0, len(indices), _READ_ROWS):
            batch = indices[start:start + _READ_ROWS]  # in file order: positions only grow
            first, last = batch[0], batch[-1]
            span = offsets[last] + sizes[last] - offsets[first]
            if span > _READ_SPAN:  # rows far apart: one read each
                for k in batch:
                    yield os.pread(fd, sizes[k], offsets[k]).replace(b"\0", str(n).encode())
                    n += 1
                continue
            block, base = os.pread(fd, span, offsets[first]), offsets[first]
            for k in batch:
                at = offsets[k] - base
                yield block[at:at + sizes[k]].replace(b"\0", str(n).encode())
                n += 1


def _widest(widths: bytearray) -> bytes:
    """The widest value per column of rows of widths laid end to end (a byte per cell)."""
    return bytes(max(widths[c::_WIDTH_COLUMNS]) for c in range(_WIDTH_COLUMNS))


def _items_sheet(wb: Workbook, title: str, count: int, widths: list[int], m: Messages) -> Sheet:
    """A sheet of ``count`` items below the header, sized and laid out before it is written."""
    sheet = _Sheet(wb.add_sheet(title))
    sheet.header([m(f"cols.{c}") for c in ITEM_COLUMNS])
    for col, width in enumerate(widths, start=1):
        if width > sheet.widths.get(col, 0):
            sheet.widths[col] = width
    sheet.finish()
    sheet.ws.count += count
    return sheet.ws


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
    """Write the workbook to ``path``: sheets streamed into the package one after the other, each
    item's row made once (first pass: rows and widths), then placed on its three sheets."""
    wb = Workbook()
    taken: set[str] = set()
    summary = wb.add_sheet(sheet_title(m("sheets.summary"), taken))
    _summary_sheet(summary, d, m)
    with tempfile.TemporaryFile(prefix="report-xlsx-") as spill:
        made = _ItemRows(wb, m, spill)
        by_rule: dict[str, tuple[array, bytearray]] = {}  # per sheet of a rule: its items, their widths
        by_owner: dict[str, tuple[array, bytearray]] = {}
        for n, i in enumerate(d.items):  # one pass, in the order of d.items
            w = made.add(i)
            rule, owner = (i.rule, i.owner) if type(i) is OpenItem else (i["rule"], i["owner"])
            for key, groups in ((rule, by_rule), (owner or "", by_owner)):
                group = groups.get(key)
                if group is None:
                    group = groups[key] = (array("l"), bytearray())
                group[0].append(n)
                group[1].extend(w)
                if len(group[1]) >= _WIDTHS_KEPT:
                    group[1][:] = _widest(group[1])
        widths = {("rule", k): _widest(g[1]) for k, g in by_rule.items()}
        widths |= {("owner", k): _widest(g[1]) for k, g in by_owner.items()}
        by_rule = {k: g[0] for k, g in by_rule.items()}
        by_owner = {k: g[0] for k, g in by_owner.items()}
        everything = [max(col) for col in zip(*(w for (kind, _), w in widths.items() if kind == "rule"),
                                              strict=True)] if by_rule else []
        sheets = [(_items_sheet(wb, sheet_title(m("sheets.all"), taken), len(d.items), everything, m),
                   range(len(d.items)))]
        for r in d.rollups["rule"]:
            indices = by_rule.get(r["key"], array("l"))
            sheets.append((_items_sheet(wb, sheet_title(r["key"], taken), len(indices),
                                        widths.get(("rule", r["key"]), []), m), indices))
        for r in sorted(d.rollups["owner"], key=lambda r: r["key"]):
            indices = by_owner.get(r["key"], array("l"))
            sheets.append((_items_sheet(wb, sheet_title(m("sheets.owner_prefix") + (r["key"] or "-"), taken),
                                        len(indices), widths.get(("owner", r["key"]), []), m), indices))
        with wb.open(path) as package:
            package.write(summary)
            for sheet, indices in sheets:
                package.write(sheet, made.rows(indices))
