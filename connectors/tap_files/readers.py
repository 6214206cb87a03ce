"""Spreadsheet rows from .xlsx and .csv files, streamed (bounded memory).

CSV text is decoded as UTF-8 (with or without BOM) and, failing that, GB18030 (a superset of
GBK/GB2312, which is what Excel on a Chinese Windows saves "CSV" as). The header is the first
non-empty row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import typing as t
from pathlib import Path

ENCODINGS = ("utf-8-sig", "gb18030")
SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")


class FileProblem(ValueError):
    """A file that cannot be read as a table (one line: why)."""


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """The first of :data:`ENCODINGS` that decodes the whole file (incrementally)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(f"not text in {' or '.join(ENCODINGS)}")


def _csv_rows(path: Path) -> t.Iterator[list[t.Any]]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(8192)
        handle.seek(0)
        try:
            dialect: t.Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(handle, dialect)


def _xlsx_rows(path: Path, sheet: str | None) -> t.Iterator[list[t.Any]]:
    import openpyxl  # lazy: only when a workbook is read

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileProblem(f"not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileProblem(f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        for row in worksheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def table_rows(path: Path, sheet: str | None = None) -> t.Iterator[tuple[int, list[t.Any]]]:
    """``(row number, cells)`` of every non-empty row, the header row first."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileProblem(f"unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
    rows = _csv_rows(path) if suffix in (".csv", ".txt") else _xlsx_rows(path, sheet)
    for number, row in enumerate(rows, start=1):
        if any(cell not in (None, "") and not (isinstance(cell, str) and not cell.strip()) for cell in row):
            yield number, row

