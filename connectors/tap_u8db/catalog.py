"""The U8 table catalogue (``tables.yaml``): which table feeds which OpenAPI stream, and how a
row's columns become the API's fields (and back, for the world writer).

All source names (tables, columns, API fields, coded values) live in the YAML; this module only
knows the catalogue's *structure*, so a tenant whose U8 differs edits data, not code.
"""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_TABLES_FILE = Path(__file__).with_name("tables.yaml")
TYPES = ("str", "num", "int", "date", "datetime")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class CatalogError(ValueError):
    """The tables file is missing or malformed (one line: file, stream, what is wrong)."""


class ValueProblem(ValueError):
    """A world value that the column cannot hold (writer side)."""


@dataclass(frozen=True)
class Column:
    """One mapped column: ``name`` in the table, ``field`` in the API record."""

    name: str
    field: str
    type: str
    values: dict[t.Any, str] | None = None  # coded column value -> API text

    def to_field(self, value: t.Any) -> t.Any:
        """A column value as the API would carry it (None stays None: the field is left out)."""
        if value is None:
            return None
        if self.values is not None:
            return self.values.get(value, str(value))
        if self.type == "num":
            return plain_number(value)
        if self.type == "int":
            return int(value)
        if self.type == "date":
            return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
        if self.type == "datetime":
            return value.strftime(DATETIME_FORMAT) if isinstance(value, dt.datetime) else str(value)
        return str(value)

    def to_column(self, value: t.Any) -> t.Any:
        """An API value as this column stores it; :class:`ValueProblem` when it cannot."""
        if value is None:
            return None
        if self.values is not None:
            inverse = {text: code for code, text in self.values.items()}
            if value in inverse:
                return inverse[value]
            if self.type == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
                raise ValueProblem(f"{value!r} is none of {sorted(inverse)}")
        try:
            if self.type == "num":
                number = decimal.Decimal(str(value).strip())
                if not number.is_finite():
                    raise decimal.InvalidOperation
                return number
            if self.type == "int":
                return int(str(value))
            if self.type == "date":
                return dt.date.fromisoformat(str(value))
            if self.type == "datetime":
                return dt.datetime.strptime(str(value), DATETIME_FORMAT)
        except (ValueError, decimal.InvalidOperation):
            raise ValueProblem(f"{value!r} is not a {self.type}") from None
        return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Lines:
    """A document's line table, joined on ``parent`` and emitted as the list ``field``."""

    table: str
    id: str
    parent: str
    field: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Lookup:
    """A code table joined to the header: U8 keeps a class's *name* only in its class table
    (``Inventory.cInvCCode`` -> ``InventoryClass.cInvCName``), so the API's name field comes from a
    LEFT JOIN of ``table`` on ``table.key = header.on`` (``join`` in the YAML) (no class row: the field is left out)."""

    table: str
    on: str  # the header column holding the code
    key: str  # the code column in ``table``
    columns: tuple[Column, ...]

    def label(self, column: Column) -> str:
        """The name the joined column carries in the header select (no clash with header columns)."""
        return f"{self.table}__{column.name}"


@dataclass(frozen=True)
class StreamSpec:
    """One OpenAPI stream read from one U8 table (plus its line table)."""

    name: str
    table: str
    key_columns: tuple[Column, ...]  # the natural key, as mapped columns
    columns: tuple[Column, ...]  # every mapped header column (key columns included)
    id: str | None = None  # surrogate id (documents: joins the lines)
    where: dict[str, str] = field(default_factory=dict)
    rowversion: str | None = None
    modified: str | None = None
    lines: Lines | None = None
    lookups: tuple[Lookup, ...] = ()

    @property
    def key_fields(self) -> list[str]:
        """The stream's primary key, in API field names."""
        return [c.field for c in self.key_columns]

    def tracking(self, mode: str) -> tuple[str, str] | None:
        """``("rowversion"|"modified", column)`` used under ``mode`` (auto = rowversion first);
        None: the stream is read whole."""
        order = {"rowversion": ("rowversion", "modified"), "modified": ("modified", "rowversion"),
                 "full": ()}.get(mode, ("rowversion", "modified"))
        for kind in order:
            column = getattr(self, kind)
            if column:
                return kind, column
        return None

    def record(self, row: t.Mapping[str, t.Any], columns: t.Iterable[Column] | None = None) -> dict:
        """A row (column name -> value) as the API record (NULL columns left out)."""
        out: dict[str, t.Any] = {}
        for column in self.columns if columns is None else columns:
            value = column.to_field(row.get(column.name))
            if value is not None:
                out[column.field] = value
        if columns is None:
            for lookup in self.lookups:
                for column in lookup.columns:
                    value = column.to_field(row.get(lookup.label(column)))
                    if value is not None:
                        out[column.field] = value
        return out


def plain_number(value: t.Any) -> t.Any:
    """An exact number without storage padding: ``Decimal('146.000000')`` -> 146,
    ``Decimal('22414.830000')`` -> ``Decimal('22414.83')``."""
    if isinstance(value, float):
        value = decimal.Decimal(repr(value))
    if not isinstance(value, decimal.Decimal):
        return value
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def _columns(where: str, body: t.Any, values: dict | None = None) -> tuple[Column, ...]:
    if not isinstance(body, dict) or not body:
        raise CatalogError(f"{where}: 'columns' must be a non-empty mapping column -> {{field, type}}")
    result = []
    for name, spec in body.items():
        if not isinstance(spec, dict) or "field" not in spec or spec.get("type") not in TYPES:
            raise CatalogError(f"{where}.{name}: needs 'field' and a 'type' among {', '.join(TYPES)}")
        coded = (values or {}).get(spec["field"])
        result.append(Column(str(name), str(spec["field"]), spec["type"], dict(coded) if coded else None))
    return tuple(result)


def _stream(origin: str, name: str, body: t.Any) -> StreamSpec:
    where = f"{origin}: {name}"
    if not isinstance(body, dict) or not isinstance(body.get("table"), str):
        raise CatalogError(f"{where}: needs a 'table'")
    columns = _columns(f"{where}.columns", body.get("columns"), body.get("values"))
    key = body.get("key")
    if isinstance(key, dict) and {"column", "field"} <= set(key):
        key_columns: tuple[Column, ...] = (Column(str(key["column"]), str(key["field"]), "str"),)
        columns = (*key_columns, *columns)
    elif isinstance(body.get("key_fields"), list):
        by_field = {c.field: c for c in columns}
        missing = [f for f in body["key_fields"] if f not in by_field]
        if missing:
            raise CatalogError(f"{where}: key_fields {missing} are not mapped columns")
        key_columns = tuple(by_field[f] for f in body["key_fields"])
    else:
        raise CatalogError(f"{where}: needs 'key' {{column, field}} or 'key_fields'")
    lines = None
    if body.get("lines") is not None:
        spec = body["lines"]
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) for k in ("table", "id", "parent")):
            raise CatalogError(f"{where}.lines: needs 'table', 'id', 'parent' and 'columns'")
        if not body.get("id"):
            raise CatalogError(f"{where}: a stream with lines needs the header 'id' column")
        lines = Lines(spec["table"], spec["id"], spec["parent"], str(spec.get("field", "entry")),
                      _columns(f"{where}.lines.columns", spec.get("columns")))
    lookups = tuple(_lookup(f"{where}.lookups[{i}]", spec, columns) for i, spec in enumerate(body.get("lookups") or []))
    return StreamSpec(
        name=name, table=body["table"], key_columns=key_columns, columns=columns, id=body.get("id"),
        where={str(k): str(v) for k, v in (body.get("where") or {}).items()},
        rowversion=body.get("rowversion"), modified=body.get("modified"), lines=lines,
        lookups=lookups,
    )


def _lookup(where: str, body: t.Any, header: tuple[Column, ...]) -> Lookup:
    if not isinstance(body, dict) or not isinstance(body.get("table"), str) or not isinstance(body.get("join"), str):
        raise CatalogError(f"{where}: needs 'table', 'join' (the header's code column) and 'columns'")
    if body["join"] not in {c.name for c in header}:
        raise CatalogError(f"{where}: 'join' column {body['join']!r} is not a mapped column of the header")
    return Lookup(body["table"], body["join"], str(body.get("key") or body["join"]),
                  _columns(f"{where}.columns", body.get("columns")))


def load_catalog(path: str | Path | None = None) -> dict[str, StreamSpec]:
    """Read the tables file (default: the shipped ``tables.yaml``)."""
    path = Path(path or DEFAULT_TABLES_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"tables file {path} not found") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not data:
        raise CatalogError(f"{path}: expected a mapping stream name -> table spec")
    return {str(name): _stream(str(path), str(name), body) for name, body in data.items()}
