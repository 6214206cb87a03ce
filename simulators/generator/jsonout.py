"""Writing big worlds without holding them: record sinks and a streaming JSON writer.

The layout (``dumps``) puts one record per line: the world's sections and objects are spread
over lines, every record is compact JSON (the C encoder: fast, and greppable by line).
A world's largest lists (U8 documents, WeCom messages) go to a *sink* as they are made. In
memory (``generate``) a sink is a plain list. When writing (``write``) it is a :class:`FileSink`
that serializes each record at once into a temporary file; ``world.json`` is then assembled
section by section, byte for byte what ``dumps`` gives for the same world in memory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

_DEPTH = 3  # world -> section -> object -> [records]: records sit at this indentation
_SPREAD = 2  # dicts above this depth get a line per key; lists a line per item


def compact(value: Any) -> str:
    """One record as one line."""
    return json.dumps(value, ensure_ascii=False)


def dumps(data: Any) -> str:
    """The text of a world or truth file (UTF-8, Chinese kept readable, one record a line)."""
    return _layout(data, 0) + "\n"


def _layout(value: Any, depth: int) -> str:
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value and depth < _SPREAD:
        items = (f"{inner}{compact(k)}: {_layout(v, depth + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, FileSink)) and len(value):
        if isinstance(value, FileSink):
            raise TypeError("a file sink is written by write_world, not laid out in memory")
        return "[\n" + ",\n".join(inner + compact(v) for v in value) + "\n" + pad + "]"
    return compact(value)


class FileSink:
    """Records serialized into a temporary file as they arrive (one list of the world)."""

    def __init__(self, folder: Path, name: str, keep: tuple[str, ...] | None = None) -> None:
        self.path = folder / f"{name}.part"
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")
        self.count = 0
        self.keep = keep
        self.view: list[dict] = []  # slim copies (only the ``keep`` fields) for the truth

    def append(self, record: dict) -> None:
        assert self._file is not None, "sink already closed"
        if self.keep is not None:
            self.view.append({k: record[k] for k in self.keep if k in record})
        if self.count:
            self._file.write(",\n")
        self._file.write(" " * _DEPTH + compact(record))
        self.count += 1

    def extend(self, records) -> None:
        for r in records:
            self.append(r)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __len__(self) -> int:
        return self.count


class Sinks:
    """Hands out sinks: lists (``folder`` None) or file sinks in ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def new(self, name: str, keep: tuple[str, ...] | None = None) -> list | FileSink:
        """A sink; a file sink with ``keep`` also holds slim copies of its records (``view``)."""
        return [] if self.folder is None else FileSink(self.folder, name, keep)


def view_of(records: list | FileSink) -> list:
    """The records as the truth oracle reads them: the list itself, or a file sink's slim view."""
    return records.view if isinstance(records, FileSink) else records


def write_world(path: Path, world: dict) -> None:
    """Write ``world`` (lists or file sinks under its sections) exactly as ``dumps`` would."""
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for i, (section, objects) in enumerate(world.items()):
            out.write(f" {compact(section)}: ")
            if section == "meta" or not objects:
                out.write(_layout(objects, 1))
            else:
                out.write("{\n")
                for j, (name, records) in enumerate(objects.items()):
                    out.write(f"  {compact(name)}: ")
                    _write_list(out, records)
                    out.write(",\n" if j < len(objects) - 1 else "\n")
                out.write(" }")
            out.write(",\n" if i < len(world) - 1 else "\n")
        out.write("}\n")


def _write_list(out: IO[str], records) -> None:
    if not isinstance(records, FileSink):
        out.write(_layout(records, _DEPTH - 1))
        return
    records.close()
    if not records.count:
        out.write("[]")
        return
    out.write("[\n")
    with records.path.open(encoding="utf-8") as part:
        shutil.copyfileobj(part, out, 1 << 20)
    records.path.unlink()
    out.write("\n" + " " * (_DEPTH - 1) + "]")


def scratch_folder(near: Path) -> Path:
    """A temporary folder beside the output (same disk, so big parts do not fill /tmp)."""
    return Path(tempfile.mkdtemp(prefix=".world-parts-", dir=near))
