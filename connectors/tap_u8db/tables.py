"""SQLAlchemy Core tables for the catalogue: what tap-u8db selects from (and what the U8 world
writer creates on SQLite / PostgreSQL). Only the catalogue's columns are declared, so the tap
never selects a column the tenant's U8 does not have in its YAML."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import sqlalchemy as sa

from connectors.tap_u8db.catalog import StreamSpec

_SQL_TYPES: dict[str, t.Callable[[], sa.types.TypeEngine]] = {
    "str": lambda: sa.Unicode(255),
    "num": lambda: sa.Numeric(28, 6),
    "int": sa.Integer,
    "date": sa.Date,
    "datetime": sa.DateTime,
}


@dataclass(frozen=True)
class StreamTables:
    """The header table (and line table) of one stream."""

    header: sa.Table
    lines: sa.Table | None
    lookups: tuple[sa.Table, ...] = ()  # one per ``spec.lookups``, in order


def _header_columns(spec: StreamSpec) -> dict[str, sa.types.TypeEngine]:
    columns: dict[str, sa.types.TypeEngine] = {}
    if spec.id:
        columns[spec.id] = sa.Integer()
    for column in spec.columns:
        columns.setdefault(column.name, _SQL_TYPES[column.type]())
    for name in spec.where:
        columns.setdefault(name, sa.Unicode(16))
    if spec.rowversion:
        columns.setdefault(spec.rowversion, sa.BigInteger())
    if spec.modified:
        columns.setdefault(spec.modified, sa.DateTime())
    return columns


def build_tables(
    catalog: dict[str, StreamSpec], metadata: sa.MetaData | None = None, schema: str | None = None
) -> dict[str, StreamTables]:
    """One :class:`StreamTables` per stream; streams sharing a table share one ``Table``."""
    metadata = metadata or sa.MetaData()
    wanted: dict[str, dict[str, sa.types.TypeEngine]] = {}
    primary: dict[str, str | None] = {}
    for spec in catalog.values():
        for name, type_ in _header_columns(spec).items():
            wanted.setdefault(spec.table, {}).setdefault(name, type_)
        primary.setdefault(spec.table, spec.id)
        if spec.lines is not None:
            line_columns = wanted.setdefault(spec.lines.table, {})
            line_columns.setdefault(spec.lines.id, sa.Integer())
            line_columns.setdefault(spec.lines.parent, sa.Integer())
            for column in spec.lines.columns:
                line_columns.setdefault(column.name, _SQL_TYPES[column.type]())
            primary.setdefault(spec.lines.table, spec.lines.id)
        for lookup in spec.lookups:
            lookup_columns = wanted.setdefault(lookup.table, {})
            lookup_columns.setdefault(lookup.key, sa.Unicode(255))
            for column in lookup.columns:
                lookup_columns.setdefault(column.name, _SQL_TYPES[column.type]())
            primary.setdefault(lookup.table, lookup.key)
    tables = {
        name: sa.Table(
            name, metadata,
            *(sa.Column(col, type_, primary_key=(col == primary.get(name))) for col, type_ in columns.items()),
            schema=schema,
        )
        for name, columns in wanted.items()
    }
    return {
        spec.name: StreamTables(tables[spec.table], tables[spec.lines.table] if spec.lines else None,
                                tuple(tables[lookup.table] for lookup in spec.lookups))
        for spec in catalog.values()
    }
