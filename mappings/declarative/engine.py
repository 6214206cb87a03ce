"""The generic mapping engine: landed raw records -> unified rows, per the declarative config.

For every record of a stream: form its ``ref``, fill each target column (path, cast, code table,
template, employee look-up), sanitise text (NUL and control characters stripped, lengths capped)
and score completeness. A required field that is missing or fails its cast sends the record to
``mapping_quarantine``; an optional one that fails is kept as NULL *with* a
``data_quality_finding``. Nothing fails silently and one bad record never stops the rest.
"""

from __future__ import annotations

import string
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import orjson
from sqlalchemy import Connection, delete, select

from hub_core.schema import metadata, raw_record
from hub_core.sql import among
from mappings.declarative.casts import CASTS, TEXT_CASTS, CastError, clean_text
from mappings.declarative.spec import DeclarativeConfig, FieldSpec, StreamSpec
from mappings.staging import insert_rows

BATCH = 2000
RAW_VALUE_CHARS = 200  # how much of an offending value quarantine and findings keep
REF_PART_CHARS = 200
INDEXED_MAX_CHARS = 200  # values of indexed columns: 200 CJK characters are 600 bytes in UTF-8
DEFAULT_MAX_LENGTH = {"str": 2000, "text": 20000, "json": 20000}
_MISSING = object()


class _Reject(Exception):
    """The record cannot be mapped: quarantine it."""

    def __init__(self, field: str, raw, reason: str) -> None:
        super().__init__(reason)
        self.field, self.raw, self.reason = field, raw, reason


def _raw_text(value) -> str | None:
    if value is None or value is _MISSING:
        return None
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return clean_text(text[: RAW_VALUE_CHARS * 2])[0][:RAW_VALUE_CHARS]


@lru_cache(maxsize=4096)
def _parts(path: str) -> tuple[bool, tuple[str, ...]]:
    """(reads the parent document, path segments), parsed once per path."""
    return (True, tuple(path[1:].split("."))) if path.startswith("^") else (False, tuple(path.split(".")))


@lru_cache(maxsize=256)
def _template(text: str) -> tuple[tuple[str, str | None], ...]:
    """(literal, path) pieces of a ref template, parsed once per template."""
    return tuple((literal, path) for literal, path, _, _ in string.Formatter().parse(text))


def _get(record: dict, path: str, parent: dict | None):
    from_parent, parts = _parts(path)
    value = (parent or {}) if from_parent else record
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _empty(value) -> bool:
    return value is _MISSING or value is None or value == "" or value == []


@dataclass
class MapStats:
    """What one mapping pass did: rows written per entity, records quarantined, findings."""

    rows: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)  # per "system.stream"
    findings: Counter = field(default_factory=Counter)  # per kind


def _seen_across(cfg: DeclarativeConfig) -> set[str]:
    """Entities whose keys one stream's rows can share with another stream's: those fed by two
    streams whose ref templates' literal prefixes are equal or one begins the other (and entities
    whose key has no ``ref``). For every other entity the keys already mapped (newest version
    first) are kept only while its stream is mapped: memory of the largest stream, not of the
    whole build (570k keys of every entity at 10k customers held ~150 MB)."""
    prefixes: dict[str, list[str]] = defaultdict(list)
    for spec in cfg.streams:
        prefixes[spec.entity].append(spec.ref.split("{", 1)[0])
    out = set()
    for entity, found in prefixes.items():
        table = metadata.tables.get(entity)
        if table is None or "ref" not in {c.name for c in table.primary_key.columns} or any(
                a.startswith(b) or b.startswith(a) for i, a in enumerate(found) for b in found[i + 1:]):
            out.add(entity)
    return out


class Mapper:
    """Applies stream specs on one connection, buffering inserts (Core executemany)."""

    def __init__(self, conn: Connection, cfg: DeclarativeConfig, sources: dict[str, str], tz: str,
                 build_id: int, employees: dict[str, str] | None = None) -> None:
        self.conn, self.cfg, self.sources, self.tz, self.build_id = conn, cfg, sources, tz, build_id
        self.employees = employees or {}
        self.stats = MapStats()
        self._buffers: dict[str, list[dict]] = defaultdict(list)
        self._seen: dict[str, set] = defaultdict(set)
        self._seen_across = _seen_across(cfg)
        self._default_cache: dict[str, dict] = {}
        self._column_cache: dict[str, list[str]] = {}
        self._index_cache: dict[str, set[str]] = {}
        self._plan_cache: dict[tuple, tuple] = {}
        # refs mapped afresh and refs forgotten, per table, when tracked (an incremental build)
        self.touched: dict[str, set[str]] | None = None
        self.forgotten: dict[str, set[str]] = defaultdict(set)
        self._tz = tz
        self._record_ref: str | None = None  # the source record being mapped (lines: its document)

    # --- output ---------------------------------------------------------------------------
    def _emit(self, table: str, row: dict) -> None:
        buf = self._buffers[table]
        buf.append(row)
        if len(buf) >= BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._buffers.pop(table, [])
        if rows:
            insert_rows(self.conn, metadata.tables[table], rows)

    def flush(self) -> None:
        for table in list(self._buffers):
            self._flush(table)

    def _finding(self, spec: StreamSpec, entity: str, ref, column: str | None, kind: str, raw, detail: str) -> None:
        self.stats.findings[kind] += 1
        self._emit("data_quality_finding", {
            "build_id": self.build_id, "source": self.sources.get(spec.system, spec.system), "stream": spec.stream,
            "entity": entity, "record_ref": self._record_ref, "ref": ref, "field": column, "kind": kind,
            "raw_value": _raw_text(raw),
            "detail": detail})

    def _quarantine(self, spec: StreamSpec, ref, column: str | None, raw, reason: str) -> None:
        self.stats.quarantined[f"{spec.system}.{spec.stream}"] += 1
        self._emit("mapping_quarantine", {
            "build_id": self.build_id, "source": self.sources.get(spec.system, spec.system), "stream": spec.stream,
            "record_ref": self._record_ref, "ref": ref, "field": column, "raw_value": _raw_text(raw),
            "reason": reason})

    # --- input ----------------------------------------------------------------------------
    def _records(self, spec: StreamSpec, since_id: int | None = None) -> Iterator[tuple[dict | None, bool, str]]:
        r = raw_record.c
        query = select(r.data, r.is_current & r.deleted_at.is_(None), r.record_key).where(
            r.source == self.sources.get(spec.system, spec.system), r.stream == spec.stream)
        if spec.versions == "current":  # a record deleted at the source (soft delete) is gone
            query = query.where(r.is_current, r.deleted_at.is_(None))
        if since_id is not None:
            query = query.where(r.id > since_id)
        # Newest first: when a record exists in several versions, the newest wins (see _seen).
        for data, current, key in self.conn.execute(query.order_by(r.id.desc()).execution_options(yield_per=BATCH)):
            try:
                record = orjson.loads(data)
            except orjson.JSONDecodeError:
                record = None
            yield (record if isinstance(record, dict) else None), bool(current), key

    # --- mapping --------------------------------------------------------------------------
    def run(self, spec: StreamSpec, since_id: int | None = None, only_refs: set[str] | None = None) -> None:
        """Map every (current, or every version of a) landed record of one stream; only those
        landed after raw id ``since_id`` and/or only those whose ref is in ``only_refs``."""
        table = metadata.tables[spec.entity]
        pk = [c.name for c in table.primary_key.columns]
        self._tz = spec.timezone or self.tz
        seen = self._seen[spec.entity]
        for record, current, key in self._records(spec, since_id):
            self._record_ref = None
            if record is None:
                self._quarantine(spec, None, None, key, "landed data is not a JSON object")
                continue
            ref = None
            try:
                ref = self._ref(spec, record)
                if only_refs is not None and ref not in only_refs:
                    continue
                self._record_ref = ref
                row = self._row(spec, spec.entity, spec.fields, spec.key_fields, record, None,
                                {"$ref": ref, "$is_current": current})
            except _Reject as rej:
                self._quarantine(spec, ref, rej.field, rej.raw, rej.reason)
                continue
            identity = row.get(pk[0]) if len(pk) == 1 else tuple(row.get(c) for c in pk)
            if identity in seen:
                continue  # an older version of a record already mapped
            seen.add(identity)
            self._emit(spec.entity, row)
            if self.touched is not None:
                self.touched[spec.entity].add(row["ref"])
            self.stats.rows[spec.entity] += 1
            if spec.lines:
                self._lines(spec, record, ref)
        if spec.entity not in self._seen_across:  # no other stream's rows can carry these keys
            del self._seen[spec.entity]

    def changed_refs(self, spec: StreamSpec, since_id: int) -> set[str]:
        """Refs of the records of a stream landed after raw id ``since_id``."""
        refs = set()
        for record, _, _ in self._records(spec, since_id):
            try:
                refs.add(self._ref(spec, record or {}))
            except _Reject:
                pass  # no ref: nothing mapped earlier can belong to it
        return refs

    def forget(self, spec: StreamSpec, refs: set[str]) -> None:
        """Delete what earlier builds mapped from these records: rows, lines, quarantine, findings."""
        source = self.sources.get(spec.system, spec.system)
        table = metadata.tables[spec.entity]
        self.forgotten[spec.entity] |= refs
        ordered = sorted(refs)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i:i + 500]
            self.conn.execute(delete(table).where(among(table.c.ref, chunk)))
            if spec.lines:
                lines = metadata.tables[spec.lines.entity]
                self.conn.execute(delete(lines).where(among(lines.c[spec.lines.parent_column], chunk)))
            for name in ("mapping_quarantine", "data_quality_finding"):
                t = metadata.tables[name]
                self.conn.execute(delete(t).where(t.c.source == source, t.c.stream == spec.stream,
                                                  among(t.c.record_ref, chunk)))

    def _lines(self, spec: StreamSpec, record: dict, ref: str) -> None:
        ls = spec.lines
        items = _get(record, ls.path, None)
        if _empty(items):
            return
        if not isinstance(items, list):
            self._finding(spec, ls.entity, ref, ls.path, "not_a_list", items, "document lines are not a list")
            return
        for n, item in enumerate(items, start=1):
            line_ref = f"{ref}#{n}"
            if not isinstance(item, dict):
                self._quarantine(spec, line_ref, ls.path, item, "document line is not an object")
                continue
            try:
                row = self._row(spec, ls.entity, ls.fields, ls.key_fields, item, record,
                                {"$ref": line_ref, "$parent_ref": ref, "$line_no": n})
            except _Reject as rej:
                self._quarantine(spec, line_ref, rej.field, rej.raw, rej.reason)
                continue
            row[ls.parent_column] = ref
            row["line_no"] = n
            self._emit(ls.entity, row)
            if self.touched is not None:
                self.touched[ls.entity].add(row["ref"])
            self.stats.rows[ls.entity] += 1

    def _columns(self, entity: str) -> list[str]:
        if entity not in self._column_cache:
            self._column_cache[entity] = list(metadata.tables[entity].c.keys())
        return self._column_cache[entity]

    def _indexed(self, entity: str) -> set[str]:
        if entity not in self._index_cache:
            table = metadata.tables[entity]
            cols = {c.name for c in table.c if c.index or c.primary_key}
            cols |= {c.name for ix in table.indexes for c in ix.columns}
            self._index_cache[entity] = cols
        return self._index_cache[entity]

    def _defaults(self, entity: str) -> dict:
        if entity not in self._default_cache:
            self._default_cache[entity] = {c.name: c.default.arg for c in metadata.tables[entity].c
                                           if c.default is not None and c.default.is_scalar}
        return self._default_cache[entity]

    def _ref(self, spec: StreamSpec, record: dict) -> str:
        parts = []
        for literal, path in _template(spec.ref):
            parts.append(literal)
            if path:
                value = _get(record, path, None)
                if _empty(value) or isinstance(value, (dict, list)):
                    raise _Reject(path, value, "missing record key")
                text = clean_text(str(value).strip())[0][:REF_PART_CHARS]
                if not text:
                    raise _Reject(path, value, "missing record key")
                parts.append(text)
        return "".join(parts)

    def _row(self, spec, entity, fields, key_fields, record, parent, engine_values) -> dict:
        row = dict.fromkeys(self._columns(entity))  # every column: batches mix streams
        ref = row["ref"] = engine_values["$ref"]
        for column, fs, sources, limit in self._plan(entity, fields):
            row[column] = self._value(spec, entity, ref, column, fs, record, parent, engine_values, sources, limit)
        for column, default in self._defaults(entity).items():  # an explicit None would bypass them
            if row.get(column) is None:
                row[column] = default
        if key_fields:
            filled = sum(1 for k in key_fields if row.get(k) not in (None, ""))
            row["completeness"] = round(filled / len(key_fields), 4)
        else:
            row["completeness"] = 1.0
        return row

    def _plan(self, entity: str, fields: dict[str, FieldSpec]) -> list[tuple]:
        """(column, spec, parsed source paths, text length limit) per field, worked out once per
        field map: the per-record loop then does no parsing and no look-ups it can avoid."""
        key = (entity, id(fields))
        plan = self._plan_cache.get(key)
        if plan is None:
            plan = []
            for column, fs in fields.items():
                sources = None
                if fs.value is None:
                    paths = (fs.source,) if isinstance(fs.source, str) else tuple(fs.source)
                    sources = tuple((p, None, None) if p.startswith("$") else (p, *_parts(p)) for p in paths)
                limit = fs.max_length or DEFAULT_MAX_LENGTH.get(fs.cast, 2000)
                if column in self._indexed(entity):  # a PostgreSQL b-tree entry must stay well under 2.7 kB
                    limit = min(limit, INDEXED_MAX_CHARS)
                plan.append((column, fs, sources, limit))
            self._plan_cache[key] = (fields, plan)  # the field map is kept so its id stays its own
        else:
            plan = plan[1]
        return plan

    def _value(self, spec, entity, ref, column, fs: FieldSpec, record, parent, engine_values, sources, limit):
        raw = _MISSING
        if fs.value is not None:
            raw = fs.value
        else:
            for path, from_parent, parts in sources:  # as _get, inlined: this runs per field of every record
                if parts is None:  # an engine value ($ref, ...)
                    raw = engine_values.get(path, _MISSING)
                else:
                    raw = (parent or {}) if from_parent else record
                    for part in parts:
                        if not isinstance(raw, dict) or part not in raw:
                            raw = _MISSING
                            break
                        raw = raw[part]
                if not (raw is _MISSING or raw is None or raw == "" or raw == []):
                    break
        if fs.true_if and any(_get(record, p, parent) in values for p, values in fs.true_if.items()):
            return True
        if fs.first and isinstance(raw, list):
            raw = raw[0] if raw else _MISSING
        if raw is _MISSING or raw is None or raw == "" or raw == []:
            if fs.required:
                raise _Reject(column, None, f"required field {column!r} is missing")
            return None
        try:
            value = CASTS[fs.cast](raw, self._tz)
            if fs.codes:
                table = self.cfg.codes[fs.codes]
                if str(value) in table:
                    value = table[str(value)]
                elif fs.default is not None:
                    value = fs.default
                else:
                    raise CastError(f"code {str(value)[:40]!r} not in code table {fs.codes!r}")
        except CastError as exc:
            if fs.required:
                raise _Reject(column, raw, f"{fs.cast}: {exc}") from None
            self._finding(spec, entity, ref, column, "cast_failed", raw, f"{fs.cast}: {exc}; stored as NULL")
            return None
        if fs.cast in TEXT_CASTS or fs.template or fs.codes:
            value = self._sanitise(spec, entity, ref, column, fs, value, limit)
        if fs.template:
            value = fs.template.format(value)
        if fs.lookup == "employee":
            employee_id = self.employees.get(value)
            if employee_id is None:
                self._finding(spec, entity, ref, column, "unknown_employee", value, "no employee has this account")
            return employee_id
        return value

    def _sanitise(self, spec, entity, ref, column, fs: FieldSpec, value, limit: int):
        if not isinstance(value, str):
            return value
        value, stripped = clean_text(value)
        if stripped:
            self._finding(spec, entity, ref, column, "control_characters", None, "NUL/control characters removed")
        if len(value) > limit:
            self._finding(spec, entity, ref, column, "truncated", value, f"{len(value)} characters cut to {limit}")
            value = value[:limit]
        return value
