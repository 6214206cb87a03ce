"""One stream per configured drop folder: the rows of every new or changed file, as records.

Incremental by file: the stream's state keeps, per file, its modification time, size and
SHA-256. A file with the same mtime and size is not opened; one whose bytes hash the same as
before is not re-read either. A changed file is read whole (the hub's loader drops rows whose
content did not change). A row that fails its shape's checks, and a file that cannot be read at
all, go to the ``_rejects`` stream with the reason, file and row - never silently dropped.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import Stream

from connectors.kit.bookmarks import HubBookmarks
from connectors.kit.records import HubRecords
from connectors.kit.rejects import RejectWriter
from connectors.kit.schemas import loose_object, prop
from connectors.tap_files.readers import FileProblem, file_digest, table_rows
from connectors.tap_files.shapes import RowProblem, Shape

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Declared replication key: marks the stream incremental for the loader (files not re-read
#: keep their records); records never carry it, the per-file state is the real bookmark.
FILES_MARK = "_files_state"
_FIELD_SCHEMAS = {
    "str": lambda: prop("string"),
    "num": lambda: prop("number"),
    "int": lambda: prop("integer"),
    "date": lambda: prop("string", fmt="date"),
}


def shape_schema(shape: Shape) -> dict[str, t.Any]:
    """The record schema of a shape (plus the declared, never-emitted files mark)."""
    props = {f.name: _FIELD_SCHEMAS[f.type]() for f in shape.fields}
    props[FILES_MARK] = prop("string", description="bookmark marker (never in records)")
    return loose_object(props, f"rows of '{shape.name}' spreadsheets")


def _cell_text(row: list[t.Any], index: int) -> str:
    value = row[index] if index < len(row) else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


class FolderStream(HubBookmarks, HubRecords, Stream):
    """The files matching ``pattern`` under ``folder``, read as ``shape`` records."""

    #: No per-record bookmark: the per-file state (see :meth:`get_records`) is the bookmark.
    bookmarks = "stream"
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: t.Any, name: str, folder: Path, pattern: str, shape: Shape,
                 sheet: str | None = None) -> None:
        self.folder, self.pattern, self.shape, self.sheet = folder, pattern, shape, sheet
        super().__init__(tap=tap, name=name, schema=shape_schema(shape))
        self.primary_keys = list(shape.key)
        self.replication_key = FILES_MARK

    @property
    def rejects(self) -> RejectWriter:
        """The tap's shared reject writer."""
        return self._tap.rejects  # type: ignore[attr-defined]

    def files(self) -> list[Path]:
        """Matching files, in name order (lock files ``~$x.xlsx`` left out)."""
        return sorted(p for p in self.folder.glob(self.pattern) if p.is_file() and not p.name.startswith("~$"))

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        if not self.folder.is_dir():
            msg = f"{self.name}: drop folder {self.folder} does not exist or is not a folder"
            raise FileNotFoundError(msg)
        state = self.get_context_state(context)
        known: dict[str, dict] = state.setdefault("files", {})
        for path in self.files():
            name = path.relative_to(self.folder).as_posix()
            stat = path.stat()
            seen = known.get(name) or {}
            if seen.get("mtime") == stat.st_mtime and seen.get("size") == stat.st_size:
                continue
            digest = file_digest(path)
            entry = {"mtime": stat.st_mtime, "size": stat.st_size, "sha256": digest}
            if seen.get("sha256") == digest:
                known[name] = entry  # touched, not changed: not re-read
                continue
            yield from self._read(path, name)
            known[name] = entry
            self.write_checkpoint()  # the file is done: a checkpoint the loader commits with its rows

    def _read(self, path: Path, name: str) -> t.Iterator[dict[str, t.Any]]:
        emitted = rejected = 0
        try:
            rows = table_rows(path, self.sheet)
            _, headers = next(rows, (0, []))
            columns, problems = self.shape.header_map(headers)
            if problems or not headers:
                raise FileProblem("; ".join(problems) or "no header row")
            for number, row in rows:
                cells = {str(headers[i]).strip(): row[i] for i in range(min(len(row), len(headers)))}
                try:
                    record = self.shape.record(row, columns, headers)
                    missing = [k for k in self.shape.key if record.get(k) in (None, "")]
                    if missing:
                        raise RowProblem(f"no {', '.join(missing)}")
                except RowProblem as exc:
                    reason = str(exc)
                else:
                    emitted += 1
                    yield record
                    continue
                rejected += 1
                key_cells = [_cell_text(row, i) for i, spec in columns.items() if spec.name in self.shape.key]
                key = "/".join(key_cells) if key_cells and all(key_cells) else None
                self.rejects.write(self.name, key, f"{name} row {number}: {reason}",
                                   {"file": name, "row": number, "cells": cells})
        except FileProblem as exc:
            self.rejects.write(self.name, None, f"{name}: {exc}", {"file": name})
            self.logger.warning("%s: file %s set aside: %s", self.name, name, exc)
            return
        self.logger.info("%s: %s read: %d records, %d rows rejected", self.name, name, emitted, rejected)
