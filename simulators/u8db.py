"""A U8-shaped database built from a world: the stand-in for a customer's U8 account database.

``write_world(world, url)`` lays the world's ``u8`` section (OpenAPI-shaped records) into U8's
tables on SQLite or PostgreSQL, using the same table catalogue tap-u8db reads
(``connectors/tap_u8db/tables.yaml``) in reverse: every field goes to its column, coded values
back to their codes, documents to a header row plus line rows, class names to their class table
(one row per code, joined back by the tap). Change tracking is filled the
way U8 fills it: a rowversion that grows with every row written, and a modification time.
``bump(url, stream, keys)`` re-saves rows (new rowversion, later modification time), as an edit
in U8 would. A world value the column cannot hold stops the write before anything is written.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from connectors.tap_u8db.catalog import Column, StreamSpec, ValueProblem, load_catalog
from connectors.tap_u8db.tables import StreamTables, build_tables
from simulators.world import SHANGHAI, World, as_world

_BATCH = 1000


class U8DBWriteError(ValueError):
    """The world cannot be laid into U8's tables (one line: how many values, the first ones)."""


@dataclass
class WriteReport:
    """What was written: rows per table, and world fields no column holds (not written)."""

    rows: Counter = field(default_factory=Counter)
    unmapped: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def summary(self) -> str:
        """One line per table, plus the unmapped fields."""
        lines = [f"{table}: {count} rows" for table, count in sorted(self.rows.items())]
        for stream, fields in sorted(self.unmapped.items()):
            lines.append(f"not written (no column in the tables file): {stream}.{', '.join(sorted(fields))}")
        return "\n".join(lines)


class _Clock:
    """Rowversion counter and modification times (distinct, one second apart)."""

    def __init__(self, now: dt.datetime) -> None:
        self.version = 0
        self.base = now.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)

    def tick(self) -> tuple[int, dt.datetime]:
        self.version += 1
        return self.version, self.base + dt.timedelta(seconds=self.version)


def _row(spec_columns: t.Iterable[Column], record: dict, where: str, problems: list[str]) -> dict:
    row: dict[str, t.Any] = {}
    for column in spec_columns:
        try:
            row[column.name] = column.to_column(record.get(column.field))
        except ValueProblem as exc:
            problems.append(f"{where}.{column.field}: {exc}")
    return row


def _lookup_rows(spec: StreamSpec, record: dict, row: dict, where: str, found: dict[str, dict[t.Any, dict]],
                 problems: list[str]) -> None:
    """The record's class names go to their code tables, one row per code (as U8 keeps them);
    a name without a code, or one code with two names, cannot be laid out and is a problem."""
    for lookup in spec.lookups:
        values = _row(lookup.columns, record, where, problems)
        if all(v is None for v in values.values()):
            continue
        code = row.get(lookup.on)
        if code is None:
            problems.append(f"{where}: {', '.join(c.field for c in lookup.columns)} without a code "
                            f"({lookup.on}) to file it under in {lookup.table}")
            continue
        values[lookup.key] = code
        kept = found.setdefault(lookup.table, {}).setdefault(code, values)
        if kept != values:
            problems.append(f"{where}: {lookup.table} {code!r} already named {kept} (U8 keeps one per code)")


def _rows_of(spec: StreamSpec, records: list[dict], clock: _Clock, report: WriteReport,
             problems: list[str], lookups: dict[str, dict[t.Any, dict]]) -> tuple[list[dict], list[dict]]:
    known = {c.field for c in spec.columns} | ({spec.lines.field} if spec.lines else set())
    known |= {c.field for lookup in spec.lookups for c in lookup.columns}
    line_known = {c.field for c in spec.lines.columns} if spec.lines else set()
    headers: list[dict] = []
    lines: list[dict] = []
    for index, record in enumerate(records, start=1):
        key = "/".join(str(record.get(f)) for f in spec.key_fields)
        where = f"u8.{spec.name}[{key}]"
        if not isinstance(record, dict) or any(record.get(f) in (None, "") for f in spec.key_fields):
            problems.append(f"u8.{spec.name} record #{index}: no {'/'.join(spec.key_fields)}")
            continue
        report.unmapped[spec.name].update(f for f in record if f not in known)
        row = _row(spec.columns, record, where, problems)
        _lookup_rows(spec, record, row, where, lookups, problems)
        row.update(spec.where)
        version, modified = clock.tick()
        if spec.id:
            row[spec.id] = index
        if spec.rowversion:
            row[spec.rowversion] = version
        if spec.modified and spec.modified not in row:  # a mapped one keeps the world's value
            row[spec.modified] = modified
        headers.append(row)
        if spec.lines is not None:
            for position, line in enumerate(record.get(spec.lines.field) or [], start=1):
                if not isinstance(line, dict):
                    problems.append(f"{where}.{spec.lines.field}[{position}]: not an object")
                    continue
                report.unmapped[f"{spec.name}.{spec.lines.field}"].update(f for f in line if f not in line_known)
                line_row = _row(spec.lines.columns, line, f"{where}.{spec.lines.field}[{position}]", problems)
                line_row[spec.lines.parent] = index
                line_row[spec.lines.id] = len(lines) + 1
                lines.append(line_row)
    return headers, lines


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict], report: WriteReport) -> None:
    if not rows:
        return
    columns = [c.name for c in table.columns]
    for start in range(0, len(rows), _BATCH):  # one executemany per batch, every row with every column
        conn.execute(table.insert(), [{c: r.get(c) for c in columns} for r in rows[start:start + _BATCH]])
    report.rows[table.name] += len(rows)


def write_world(world: World | dict | str, url: str, *, db_schema: str | None = None,
                tables_file: str | None = None) -> WriteReport:
    """Replace the U8 tables at ``url`` with the world's ``u8`` section."""
    world = as_world(world)
    catalog = load_catalog(tables_file)
    clock = _Clock(world.now)
    report = WriteReport()
    problems: list[str] = []
    planned: list[tuple[StreamSpec, list[dict], list[dict]]] = []
    lookups: dict[str, dict[t.Any, dict]] = {}  # code table -> code -> row
    for name, spec in catalog.items():
        headers, lines = _rows_of(spec, world.records("u8", name), clock, report, problems, lookups)
        planned.append((spec, headers, lines))
    report.unmapped = {k: v for k, v in report.unmapped.items() if v}
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise U8DBWriteError(f"{len(problems)} world values do not fit U8's columns: "
                             f"{'; '.join(problems[:3])}{more}")
    metadata = sa.MetaData()
    tables = build_tables(catalog, metadata, schema=db_schema)
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as conn:
            for spec, headers, lines in planned:
                _insert(conn, tables[spec.name].header, headers, report)
                if tables[spec.name].lines is not None:
                    _insert(conn, tables[spec.name].lines, lines, report)  # type: ignore[arg-type]
            by_name = {table.name: table for stream in tables.values() for table in stream.lookups}
            for name, rows in lookups.items():
                _insert(conn, by_name[name], list(rows.values()), report)
    finally:
        engine.dispose()
    return report


def _key_filter(spec: StreamSpec, table: sa.Table, key: t.Any) -> sa.ColumnElement:
    parts = key if isinstance(key, (tuple, list)) else (key,)
    clauses = [table.c[c.name] == v for c, v in zip(spec.key_columns, parts, strict=True)]
    clauses += [table.c[name] == value for name, value in spec.where.items()]
    return sa.and_(*clauses)


def bump(url: str, stream: str, keys: t.Iterable[t.Any], changes: dict[str, t.Any] | None = None, *,
         db_schema: str | None = None, tables_file: str | None = None) -> int:
    """Re-save the header rows of ``keys`` (API key values): a new rowversion, a later
    modification time, and ``changes`` (API field -> value). Returns the rows updated."""
    spec = load_catalog(tables_file)[stream]
    table: StreamTables = build_tables({stream: spec}, schema=db_schema)[stream]
    header = table.header
    values = {}
    by_field = {c.field: c for c in spec.columns}
    for name, value in (changes or {}).items():
        values[by_field[name].name] = by_field[name].to_column(value)
    engine = sa.create_engine(url)
    updated = 0
    try:
        with engine.begin() as conn:
            version = conn.execute(sa.select(sa.func.max(header.c[spec.rowversion]))).scalar() if spec.rowversion else 0
            latest = conn.execute(sa.select(sa.func.max(header.c[spec.modified]))).scalar() if spec.modified else None
            for key in keys:
                version = (version or 0) + 1
                latest = (latest or dt.datetime(2000, 1, 1)) + dt.timedelta(seconds=1)
                row = dict(values)
                if spec.rowversion:
                    row[spec.rowversion] = version
                if spec.modified:
                    row[spec.modified] = latest
                updated += conn.execute(header.update().where(_key_filter(spec, header, key)).values(row)).rowcount
    finally:
        engine.dispose()
    return updated


def sample_database(folder: str | t.Any, seed: int = 5, customers: int = 6) -> str:
    """A small generated world's U8 tables in ``folder/u8.db`` (SQLite); returns its URL.
    For suites that need "a U8 database" without caring which (e.g. connector conformance)."""
    from pathlib import Path

    from simulators.generator import generate

    path = Path(folder) / "u8.db"
    url = f"sqlite:///{path}"
    write_world(generate(seed, customers=customers)[0], url)
    return url
