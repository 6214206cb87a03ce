"""Compact worlds: serve a 100k-customer world (~3 GB of JSON, ~9M records) in bounded memory.

A world loaded as Python objects needs several times its file's size in RAM, and ``orjson``
refuses a file that large. :func:`load_compact` reads the world file one line (one record) at a
time and keeps each large object's records as zlib-compressed blocks of their JSON lines
(:class:`CompactRecords`), decoded per page. Beside the blocks it keeps, per record, the few
*light* fields the simulators filter, sort and look up on (``LIGHT``: CRM ``_id`` and
``last_modified_time``, U8 natural keys and filter fields, WeCom ``seq``/``msgtime``/follow
user, finance ``rated_at``/``customer_code``), so a page is found by the sorted indexes the
simulators keep (``simulators/compact_paths.py``) without decoding the object.

Bench-only contract (``bench/serve.py``'s ``compact`` mode): the simulators answer exactly as
over the same world loaded whole (``tests/simulators/test_sim_compact.py``, page by page), but
``world.data`` holds read-only sequences whose items are fresh dicts: editing a returned dict
changes nothing. Edits go through :meth:`CompactWorld.edit`, whose view hands out records that
write themselves back on assignment of a top-level field (what ``bench/incremental.py``'s
change does). Tests that mutate ``world.data`` in place use ordinary worlds.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from simulators.world import World

BLOCK = 32  # records per compressed block: a page decompresses one or two ~15 KB blocks
MISSING = object()  # a light field the record does not have (not the same as null)

#: Fields kept uncompressed per record, per system (see the module docstring). A dotted name is
#: derived (``follow_info.userid``) and only for the simulators' indexes.
LIGHT: dict[str, tuple[str, ...]] = {
    "crm": ("_id", "last_modified_time"),
    "u8": ("code", "invoiceno", "invcode", "inventory_code", "whcode", "warehouse_code", "batch",
           "date", "name", "state", "custcode", "ModifyDate", "modifydate"),
    "wecom": ("seq", "msgtime", "follow_info.userid"),
    "finance": ("rated_at", "customer_code"),
}


def _light_value(record: dict, field: str) -> Any:
    if "." in field:
        head, _, tail = field.partition(".")
        inner = record.get(head) or {}
        return inner.get(tail) if isinstance(inner, dict) else None
    return record.get(field, MISSING)



def _position(index: int, length: int) -> int:
    """A list index (negative from the end) as a position, IndexError outside, as a list does."""
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError("record index out of range")
    return index

class CompactRecords(Sequence):
    """One object's records as compressed JSON-line blocks plus light fields (module docstring).

    ``version`` grows with every write; ``cache`` (derived indexes of ``compact_paths``) is
    emptied then, so no index outlives the records it was built from."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.columns: list[list] = [[] for _ in fields]  # per light field, per record (a list each:
        # 8 bytes a value, where a tuple per record costs ~50 more)
        self._count = 0
        self.version = 0
        self.cache: dict[Any, Any] = {}
        self._blocks: list[bytes] = []
        self._pending: list[bytes] = []
        self._patched: dict[int, bytes] = {}
        self._hot: tuple[int, list[bytes]] | None = None  # the last block decompressed
        self._shared: dict[str, str] | None = {}  # while loading

    def append_line(self, line: bytes, record: dict) -> None:
        """Add one record: its JSON line as read, and the parsed record for the light fields."""
        shared = self._shared  # one object per repeated text (dates, states): ~60 B a value less
        for field, column in zip(self.fields, self.columns):
            value = _light_value(record, field)
            column.append(shared.setdefault(value, value) if shared is not None and type(value) is str else value)
        self._count += 1
        self._pending.append(line)
        if len(self._pending) == BLOCK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._blocks.append(zlib.compress(b"\n".join(self._pending), 1))
            self._pending = []

    def finish(self) -> CompactRecords:
        """End loading: compress the last block and drop light fields no record has."""
        self._flush()
        self._shared = None
        present = [i for i, column in enumerate(self.columns) if any(v is not MISSING for v in column)]
        self.fields = tuple(self.fields[i] for i in present)
        self.columns = [self.columns[i] for i in present]
        return self

    def __len__(self) -> int:
        return self._count

    def line(self, index: int) -> bytes:
        """The JSON of record ``index`` (no bounds beyond the list's own)."""
        patched = self._patched.get(index)
        if patched is not None:
            return patched
        block, at = divmod(index, BLOCK)
        if self._hot is None or self._hot[0] != block:
            self._hot = (block, zlib.decompress(self._blocks[block]).split(b"\n"))
        return self._hot[1][at]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return orjson.loads(self.line(_position(index, len(self))))

    def __iter__(self) -> Iterator[dict]:
        for index in range(len(self)):
            yield orjson.loads(self.line(index))

    def __setitem__(self, index: int, record: dict) -> None:
        """Replace record ``index`` (its light fields too); every derived index is dropped."""
        if not 0 <= index < len(self):
            raise IndexError("record index out of range")
        self._patched[index] = orjson.dumps(record)
        for field, column in zip(self.fields, self.columns):
            column[index] = _light_value(record, field)
        self.version += 1
        self.cache.clear()

    def light_dict(self, index: int) -> dict:
        """The record's light top-level fields as a dict (what a filter on them reads)."""
        return {f: v for f, column in zip(self.fields, self.columns)
                if (v := column[index]) is not MISSING and "." not in f}

    def column(self, field: str) -> list | None:
        """Every record's light value of ``field`` (MISSING where absent); None when not light."""
        if field not in self.fields:
            return None
        return self.columns[self.fields.index(field)]

    def stored_bytes(self) -> int:
        """Compressed bytes held (blocks and patched records)."""
        return sum(map(len, self._blocks)) + sum(map(len, self._patched.values()))

    def __add__(self, other: Any) -> list:
        return [*self, *other]

    def __radd__(self, other: Any) -> list:
        return [*other, *self]

    def __repr__(self) -> str:
        return f"CompactRecords({len(self)} records, fields={self.fields})"


class _EditRecord(dict):
    """A record handed out by :meth:`CompactWorld.edit`: filled with its light fields first, read
    in full on the first other access, written back on assignment of a top-level field."""

    __slots__ = ("_records", "_index", "_full")

    def __init__(self, records: CompactRecords, index: int) -> None:
        super().__init__(records.light_dict(index))
        self._records, self._index, self._full = records, index, False

    def _load(self) -> None:
        if not self._full:
            dict.clear(self)
            dict.update(self, self._records[self._index])
            self._full = True

    def __getitem__(self, key):
        if not self._full and not dict.__contains__(self, key):
            self._load()
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        if not self._full and not dict.__contains__(self, key):
            self._load()
        return dict.get(self, key, default)

    def __contains__(self, key) -> bool:
        self._load()
        return dict.__contains__(self, key)

    def __setitem__(self, key, value) -> None:
        self._load()
        dict.__setitem__(self, key, value)
        self._records[self._index] = dict(self)

    def __delitem__(self, key) -> None:
        self._load()
        dict.__delitem__(self, key)
        self._records[self._index] = dict(self)

    def keys(self):
        self._load()
        return dict.keys(self)

    def values(self):
        self._load()
        return dict.values(self)

    def items(self):
        self._load()
        return dict.items(self)

    def __iter__(self):
        self._load()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return dict.__len__(self)

    def __eq__(self, other) -> bool:
        self._load()
        return dict.__eq__(self, other)

    def copy(self) -> dict:
        self._load()
        return dict(dict.items(self))

    __hash__ = None  # type: ignore[assignment]


class _EditList(Sequence):
    """One compact object as the edit sees it: :class:`_EditRecord` items."""

    def __init__(self, records: CompactRecords) -> None:
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return _EditRecord(self.records, _position(index, len(self)))

    def __add__(self, other: Any) -> list:
        return [*self, *other]

    def __radd__(self, other: Any) -> list:
        return [*other, *self]


class CompactWorld(World):
    """A :class:`World` whose large objects are :class:`CompactRecords` (see the module doc)."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        super().__init__(data, source, validate=False)

    def edit(self, change: Callable[[dict], Any]) -> Any:
        """Run ``change(data)`` on a view whose compact objects write assigned fields back."""
        view = {section: ({name: _EditList(records) if isinstance(records, CompactRecords) else records
                           for name, records in objects.items()} if isinstance(objects, dict) else objects)
                for section, objects in self.data.items()}
        return change(view)

    def stored_bytes(self) -> int:
        """Compressed bytes of every compact object."""
        return sum(r.stored_bytes() for objects in self.data.values() if isinstance(objects, dict)
                   for r in objects.values() if isinstance(r, CompactRecords))


def iter_lines(path: Path) -> Iterator[tuple[str, str, bytes | None]]:
    """(system, object, one record's JSON line) of a generated world file (one record per line,
    ``simulators.generator.jsonout``), in file order; an empty object yields one ``None`` line.
    A file in another layout raises ValueError (read it whole with ``load_world`` instead)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if b'"meta"' not in head or b"\n" not in head:
        raise ValueError(f"{path}: not a one-record-per-line world file")
    system = stream = None
    with open(path, "rb") as f:
        for line in f:
            stripped = line.strip()
            if stream is not None:
                if stripped in (b"]", b"],"):
                    stream = None
                else:
                    yield system, stream, stripped.rstrip(b",")
                continue
            if stripped.endswith(b"[") and stripped != b"[" and system is not None:
                stream = orjson.loads(stripped.split(b":", 1)[0])
            elif stripped.endswith((b"[]", b"[],")) and system is not None:
                yield system, orjson.loads(stripped.split(b":", 1)[0]), None
            elif stripped.endswith(b"{") and stripped != b"{":
                system = orjson.loads(stripped.split(b":", 1)[0])
            elif stripped in (b"}", b"},"):
                system = None


def read_meta(path: Path) -> dict:
    """The world's ``meta`` block (its clock, seed) from the head of the file."""
    with open(path, "rb") as f:
        head = f.read(65536)
    start = head.find(b'"meta"')
    if start >= 0:
        brace = head.find(b"{", start)
        end = head.find(b"}", brace)
        if brace >= 0 and end > brace:
            return orjson.loads(head[brace:end + 1])
    return orjson.loads(Path(path).read_bytes())["meta"]


def load_compact(path: str | Path, min_records: int = 20_000) -> CompactWorld:
    """The world file at ``path`` with every object of at least ``min_records`` records compact
    (0: every object); smaller objects stay plain lists of dicts, as :func:`load_world` has them."""
    path = Path(path)
    data: dict[str, Any] = {"meta": read_meta(path)}
    current: tuple[str, str] | None = None
    plain: list[dict] = []
    packed: CompactRecords | None = None

    def close() -> None:
        nonlocal packed
        if current is None:
            return
        system, stream = current
        data.setdefault(system, {})[stream] = plain[:] if packed is None else packed.finish()
        packed = None
        plain.clear()

    for system, stream, line in iter_lines(path):
        if current != (system, stream):
            close()
            current = (system, stream)
        if line is None:
            continue
        record = orjson.loads(line)
        if packed is None and len(plain) + 1 >= max(min_records, 1):
            packed = CompactRecords(LIGHT.get(system, ()))
            for earlier in plain:
                packed.append_line(orjson.dumps(earlier), earlier)
            plain.clear()
        if packed is None:
            plain.append(record)
        else:
            packed.append_line(line, record)
    close()
    return CompactWorld(data, str(path))
