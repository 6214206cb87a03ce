"""A small XLSX writer for the report's workbook: rows of plain values, a handful of styles.

Why not openpyxl's writer: without lxml (not in our lock) openpyxl serializes every cell through
a generic element tree - building a ``Cell``, then an ``Element``, then walking it - about 0.1 ms
of CPU per cell. The workbook repeats every item on three sheets (all items, its rule, its
owner), so a 10k-customer world's report spent most of its time there. The format needs little:
sheets of rows, column widths, a frozen header, an auto-filter, fills, a bold header font and
four number formats; this module writes exactly that as SpreadsheetML text, one string per row.
openpyxl still reads it back in the tests (``load_workbook``), so what a manager gets is checked
by the same library as before.

Values: ``str`` (inline strings, as openpyxl writes them), ``int`` / ``float`` / ``Decimal``,
``bool``, ``datetime`` / ``date`` (Excel serial days; give them a date format), ``None`` (no
cell). Anything else is written as its ``str``. Control characters are the caller's to remove
(``xlsx.clean``): XML 1.0 cannot carry them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = datetime(1899, 12, 30)
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4}
# element text: the three markup characters, and CR (an XML parser would turn it into LF)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


@dataclass(frozen=True)
class Style:
    """One cell look: number format, fill colour (RGB hex), bold font colour, vertical alignment."""

    number_format: str = "General"
    fill: str | None = None
    bold_color: str | None = None
    vertical: str | None = None


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_LETTERS = [""] + [column_letter(c) for c in range(1, 64)]


def _serial(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        delta = moment.replace(tzinfo=None) - _EPOCH
        return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000)
    return str((moment - _EPOCH.date()).days)


def _cell_tail(value, style: int) -> str:
    """A cell's XML after its reference (``<c r="B7`` + this): style, type and value."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, str):
        text = value.translate(_TEXT)
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() or "\n" in text else ""
        return f'"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):
        return f'"{s} t="n"><v>{value!r}</v></c>'
    if isinstance(value, int | Decimal):
        return f'"{s} t="n"><v>{value}</v></c>'
    if isinstance(value, datetime | date):
        return f'"{s} t="n"><v>{_serial(value)}</v></c>'
    return _cell_tail(str(value), style)


@dataclass(frozen=True)
class Row:
    """A row's XML cut at its row numbers: ``str(n).join(parts)`` places it on row ``n``. The
    report writes each item on three sheets; its cells are made once."""

    parts: tuple[str, ...]
    width: int


@dataclass(eq=False)
class Sheet:
    """One worksheet: rows appended into memory (small sheets), or streamed by ``Package.write``
    (then ``count``, ``columns`` and ``widths`` are set before it is written)."""

    title: str
    book: Workbook
    rows: list[str] = field(default_factory=list)
    count: int = 0  # rows so far, empty ones included
    columns: int = 0  # widest row so far
    widths: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None  # e.g. "A2": everything above row 2 stays in view
    auto_filter: bool = False  # over the whole used range, its first row as the header

    def append(self, values: list | Row, styles: dict[int, Style] | None = None) -> None:
        """One row of values (``styles`` by 1-based column) or a prepared ``Row``. An empty list
        leaves an empty row."""
        row = values if isinstance(values, Row) else self.book.prepare(values, styles)
        self.count += 1
        self.columns = max(self.columns, row.width)
        if len(row.parts) > 1:
            n = str(self.count)
            self.rows.append(f'<row r="{n}">{n.join(row.parts)}</row>')

    @property
    def dimension(self) -> str:
        """The used range, as openpyxl and Excel report it (``A1:R31``)."""
        return f"A1:{column_letter(max(self.columns, 1))}{max(self.count, 1)}"

    def head(self) -> str:
        """The worksheet part up to its first row (needs the final size and widths: a streamed
        sheet sets ``count`` / ``columns`` / ``widths`` before it is written)."""
        view = '<sheetView workbookViewId="0">'
        if self.freeze:
            split = int(self.freeze[1:]) - 1
            view += (f'<pane ySplit="{split}" topLeftCell="{self.freeze}" activePane="bottomLeft" state="frozen"/>'
                     f'<selection pane="bottomLeft" activeCell="{self.freeze}" sqref="{self.freeze}"/>')
        view += "</sheetView>"
        cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in sorted(self.widths.items()))
        return (f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="{self.dimension}"/>'
                f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")

    def tail(self) -> str:
        """The worksheet part after its last row."""
        return "</sheetData>" + (f'<autoFilter ref="{self.dimension}"/>' if self.auto_filter else "") + "</worksheet>"

    def xml(self) -> str:
        """The worksheet part (of the rows appended so far)."""
        return self.head() + "".join(self.rows) + self.tail()


class Workbook:
    """Sheets in order, the styles they use; ``save`` writes the package."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []
        self._styles: dict[Style, int] = {Style(): 0}

    def add_sheet(self, title: str) -> Sheet:
        """A new sheet at the end (``title`` must already be legal and unique: ``xlsx.sheet_title``)."""
        sheet = Sheet(title, self)
        self.sheets.append(sheet)
        return sheet

    def prepare(self, values: list, styles: dict[int, Style] | None = None, memo: dict | None = None) -> Row:
        """``values`` as a row that can be appended to any sheet of this workbook, at any row.
        ``memo`` (a dict the caller keeps for a batch of rows) remembers each (value, style)'s
        cell: many rows repeat a rule, a region, an owner, a word."""
        styles = styles or {}
        parts, tail = [], ""
        for c, v in enumerate(values, start=1):
            if v is None or v == "":
                continue
            parts.append(f'{tail}<c r="{_LETTERS[c] if c < len(_LETTERS) else column_letter(c)}')
            sid = self.style_id(styles[c]) if c in styles else 0
            if memo is None:
                tail = _cell_tail(v, sid)
                continue
            key = (type(v), v, sid)  # 1, 1.0 and True are equal keys but different cells
            tail = memo.get(key)
            if tail is None:
                tail = memo[key] = _cell_tail(v, sid)
        parts.append(tail)
        return Row(tuple(parts), len(values))

    def style_id(self, style: Style) -> int:
        """The cellXfs index of ``style`` (registered on first use)."""
        return self._styles.setdefault(style, len(self._styles))

    def _styles_xml(self) -> str:
        formats = {st.number_format for st in self._styles if st.number_format not in _BUILTIN_FORMATS}
        fmt_ids = dict(_BUILTIN_FORMATS) | {f: 164 + n for n, f in enumerate(sorted(formats))}
        fills = [None] + sorted({st.fill for st in self._styles if st.fill})
        fonts = [None] + sorted({st.bold_color for st in self._styles if st.bold_color})
        fill_xml = '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' + "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{f}"/><bgColor indexed="64"/></patternFill></fill>'
            for f in fills[1:])
        font_xml = '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' + "".join(
            f'<font><b/><sz val="11"/><color rgb="FF{c}"/><name val="Calibri"/><family val="2"/></font>' for c in fonts[1:])
        xfs = []
        for st in self._styles:  # dicts keep insertion order: index = style id
            fill = fills.index(st.fill) + 1 if st.fill else 0  # after the two required fills
            font = fonts.index(st.bold_color) if st.bold_color else 0
            attrs = (f'numFmtId="{fmt_ids[st.number_format]}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
                     + (' applyNumberFormat="1"' if st.number_format != "General" else "")
                     + (' applyFill="1"' if fill else "") + (' applyFont="1"' if font else ""))
            xfs.append(f'<xf {attrs} applyAlignment="1"><alignment vertical="{st.vertical}"/></xf>' if st.vertical
                       else f"<xf {attrs}/>")
        numfmts = "".join(f'<numFmt numFmtId="{i}" formatCode={quoteattr(f)}/>' for f, i in fmt_ids.items() if i >= 164)
        return (f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
                + (f'<numFmts count="{len(formats)}">{numfmts}</numFmts>' if formats else "")
                + f'<fonts count="{len(fonts)}">{font_xml}</fonts><fills count="{len(fills) + 1}">{fill_xml}</fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')

    def _workbook_xml(self) -> str:
        sheets = "".join(f'<sheet name={quoteattr(s.title)} sheetId="{n}" r:id="rId{n}"/>'
                         for n, s in enumerate(self.sheets, start=1))
        names = "".join(  # what Excel's filter buttons refer to
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{escape(_quoted(s.title))}!{_absolute(s.dimension)}</definedName>"
            for n, s in enumerate(self.sheets) if s.auto_filter)
        return (f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
                f"<sheets>{sheets}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "")
                + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')

    def save(self, path: Path) -> None:
        """Write the .xlsx package to ``path`` (every sheet added so far, in memory)."""
        with self.open(path) as package:
            for sheet in self.sheets:
                package.write(sheet)

    def open(self, path: Path) -> Package:
        """Start the package at ``path``: sheets are written into it one after the other (a
        streamed sheet never is in memory whole), the workbook parts when it closes."""
        return Package(self, path)

    def _parts(self) -> list[tuple[str, str]]:
        """The package's parts other than the worksheets, for the sheets written."""
        n = len(self.sheets)
        types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
        content_types = (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{types}</Types>')
        rels = (f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
                'Target="xl/workbook.xml"/></Relationships>')
        book_rels = (f'{_HEAD}<Relationships xmlns="{_PKG}">' + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)) + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>")
        return [("[Content_Types].xml", content_types), ("_rels/.rels", rels), ("xl/workbook.xml", self._workbook_xml()),
                ("xl/_rels/workbook.xml.rels", book_rels), ("xl/styles.xml", self._styles_xml())]


_FLUSH = 1 << 20  # bytes of row XML gathered before they go to the compressor


class Package:
    """An .xlsx being written: ``write`` each sheet in order, then ``close`` (or use ``with``).

    Worksheets go into the zip first, as they are written; workbook, styles and relationships
    last, once every sheet and style is known (zip members may come in any order)."""

    def __init__(self, book: Workbook, path: Path):
        self.book = book
        self.count = 0
        # level 1: the sheets' XML is repetitive, so it still shrinks ~10x, at a fraction of the CPU
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def write(self, sheet: Sheet, rows: Iterable[bytes] | None = None) -> None:
        """Write ``sheet``: its appended rows, then ``rows`` if given (each a whole ``<row>``
        element as UTF-8, numbered on from the appended ones, as many as ``sheet.count`` says
        beyond them; size and widths set beforehand). The sheet keeps its title and layout for
        the workbook part, not its rows."""
        if self.count >= len(self.book.sheets) or self.book.sheets[self.count] is not sheet:
            raise ValueError(f"sheets are written in the order they were added: {sheet.title!r} is out of turn")
        self.count += 1
        with self.zip.open(f"xl/worksheets/sheet{self.count}.xml", "w") as out:
            out.write((sheet.head() + "".join(sheet.rows)).encode())
            if rows is not None:
                buffer, size = [], 0
                for row in rows:
                    buffer.append(row)
                    size += len(row)
                    if size > _FLUSH:
                        out.write(b"".join(buffer))
                        buffer, size = [], 0
                out.write(b"".join(buffer))
            out.write(sheet.tail().encode())
        sheet.rows = []

    def close(self) -> None:
        """Write the workbook parts and finish the zip."""
        for name, text in self.book._parts():
            self.zip.writestr(name, text)
        self.zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.zip.close()


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    start, end = ref.split(":")
    return ":".join("$" + "".join(ch for ch in part if ch.isalpha()) + "$" + "".join(ch for ch in part if ch.isdigit())
                    for part in (start, end))
