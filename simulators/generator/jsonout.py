"""Writing big worlds without holding them: record sinks and a streaming JSON writer.

A world's largest lists (U8 documents, WeCom messages) go to a *sink* as they are made. In
memory (``generate``) a sink is a plain list. When writing (``write``) it is a :class:`FileSink`
that serializes each record at once into a temporary file; the final ``world.json`` is then
assembled section by section. Either way the bytes equal
``json.dumps(world, ensure_ascii=False, indent=1)``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

_DEPTH = 3  # world -> section -> object -> [records]


def _encode(value: Any, depth: int) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1)
    return text.replace("\n", "\n" + " " * depth)  # JSON strings never hold a raw newline


class FileSink:
    """Records serialized into a temporary file as they arrive (one list of the world)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.part"
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")
        self.count = 0

    def append(self, record: dict) -> None:
        assert self._file is not None, "sink already closed"
        if self.count:
            self._file.write(",\n")
        self._file.write(" " * _DEPTH + _encode(record, _DEPTH))
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

    def new(self, name: str) -> list | FileSink:
        return [] if self.folder is None else FileSink(self.folder, name)


def _write_list(out: IO[str], records) -> None:
    if isinstance(records, FileSink):
        records.close()
        if not records.count:
            out.write("[]")
            return
        out.write("[\n")
        with records.path.open(encoding="utf-8") as part:
            shutil.copyfileobj(part, out, 1 << 20)
        records.path.unlink()
        out.write("\n" + " " * (_DEPTH - 1) + "]")
        return
    if not records:
        out.write("[]")
        return
    out.write("[\n")
    for i, r in enumerate(records):
        if i:
            out.write(",\n")
        out.write(" " * _DEPTH + _encode(r, _DEPTH))
    out.write("\n" + " " * (_DEPTH - 1) + "]")


def write_world(path: Path, world: dict) -> None:
    """Write ``world`` (lists or file sinks under its sections) as ``dumps`` would."""
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for i, (section, objects) in enumerate(world.items()):
            out.write(f" {json.dumps(section)}: ")
            if section == "meta":
                out.write(_encode(objects, 1))
            else:
                out.write("{\n")
                for j, (name, records) in enumerate(objects.items()):
                    out.write(f"  {json.dumps(name, ensure_ascii=False)}: ")
                    _write_list(out, records)
                    out.write(",\n" if j < len(objects) - 1 else "\n")
                out.write(" }")
            out.write(",\n" if i < len(world) - 1 else "\n")
        out.write("}\n")


def scratch_folder(near: Path) -> Path:
    """A temporary folder beside the output (same disk, so big parts do not fill /tmp)."""
    return Path(tempfile.mkdtemp(prefix=".world-parts-", dir=near))
