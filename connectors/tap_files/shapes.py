"""Record shapes (``shapes.yaml``): which spreadsheet column feeds which field, and the checks a
row must pass. Every source header and field name is data; this module only validates."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import typing as t
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_SHAPES_FILE = Path(__file__).with_name("shapes.yaml")
TYPES = ("str", "num", "int", "date")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: .*)?$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


class ShapeError(ValueError):
    """The shapes file is missing or malformed."""


class RowProblem(ValueError):
    """A cell that fails its field's checks (the message names the header and the value)."""


def header_token(text: t.Any) -> str:
    """A header as compared: no spaces (half or full width), no BOM, case-folded."""
    return re.sub(r"[\s\u3000\ufeff]+", "", str(text or "")).casefold()


@dataclass(frozen=True)
class FieldSpec:
    """One output field and its checks."""

    name: str
    headers: tuple[str, ...]
    type: str
    required: bool = False
    upper: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: decimal.Decimal | None = None

    def convert(self, value: t.Any, header: str) -> t.Any:
        """The cell as the field's value; None for an empty cell; :class:`RowProblem` if invalid."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.required:
                raise RowProblem(f"{header} is empty")
            return None
        if self.type == "str":
            text = _text(value)
            text = text.upper() if self.upper else text
            if self.allowed is not None and text not in self.allowed:
                raise RowProblem(f"{header} {text!r} is none of {', '.join(self.allowed)}")
            return text
        if self.type == "date":
            return _date(value, header)
        number = _number(value, header)
        if self.minimum is not None and number < self.minimum:
            raise RowProblem(f"{header} {_text(value)!r} is below {self.minimum}")
        if self.type == "int":
            if number != number.to_integral_value():
                raise RowProblem(f"{header} {_text(value)!r} is not a whole number")
            return int(number)
        return int(number) if number == number.to_integral_value() else number.normalize()


def _text(value: t.Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed into a number cell: 1001.0 -> "1001"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _number(value: t.Any, header: str) -> decimal.Decimal:
    if isinstance(value, bool):
        raise RowProblem(f"{header} {value!r} is not a number")
    text = repr(value) if isinstance(value, float) else str(value)
    text = text.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise RowProblem(f"{header} {_text(value)!r} is not a number") from None
    if not number.is_finite():
        raise RowProblem(f"{header} {_text(value)!r} is not a number")
    return number


def _date(value: t.Any, header: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups())).isoformat()
            except ValueError:
                break
    raise RowProblem(f"{header} {text!r} is not a date")


@dataclass(frozen=True)
class Shape:
    """A record shape: its fields and key."""

    name: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]

    def header_map(self, headers: list[t.Any]) -> tuple[dict[int, FieldSpec], list[str]]:
        """Column index -> field for a file's header row, and the problems (missing required
        columns, a field named by two columns)."""
        by_token = {header_token(h): f for f in self.fields for h in (*f.headers, f.name)}
        found: dict[int, FieldSpec] = {}
        problems: list[str] = []
        for index, header in enumerate(headers):
            spec = by_token.get(header_token(header))
            if spec is None:
                continue
            if spec in found.values():
                problems.append(f"two columns for {spec.name} ({spec.headers[0]})")
            found[index] = spec
        present = set(found.values())
        problems += [f"no column for {f.name} ({' / '.join(f.headers)})" for f in self.fields
                     if f.required and f not in present]
        return found, problems

    def record(self, row: t.Sequence[t.Any], columns: dict[int, FieldSpec], headers: list[t.Any]) -> dict:
        """One row as a record; :class:`RowProblem` listing every failing cell."""
        record: dict[str, t.Any] = {}
        problems: list[str] = []
        for index, spec in columns.items():
            cell = row[index] if index < len(row) else None
            try:
                value = spec.convert(cell, str(headers[index]).strip())
            except RowProblem as exc:
                problems.append(str(exc))
                continue
            if value is not None:
                record[spec.name] = value
        if problems:
            raise RowProblem("; ".join(problems))
        return record


def _field(shape: str, name: str, body: t.Any) -> FieldSpec:
    if not isinstance(body, dict) or body.get("type") not in TYPES or not isinstance(body.get("headers"), list):
        raise ShapeError(f"shape {shape}.{name}: needs 'headers' (a list) and a 'type' among {', '.join(TYPES)}")
    allowed = body.get("allowed")
    minimum = body.get("min")
    return FieldSpec(
        name=name, headers=tuple(str(h) for h in body["headers"]), type=body["type"],
        required=bool(body.get("required")), upper=bool(body.get("upper")),
        allowed=tuple(str(a) for a in allowed) if allowed else None,
        minimum=decimal.Decimal(str(minimum)) if minimum is not None else None,
    )


def load_shapes(path: str | Path | None = None) -> dict[str, Shape]:
    """Read the shapes file (default: the shipped ``shapes.yaml``)."""
    path = Path(path or DEFAULT_SHAPES_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShapeError(f"shapes file {path} not found") from None
    except yaml.YAMLError as exc:
        raise ShapeError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ShapeError(f"{path}: expected a mapping shape name -> {{key, fields}}")
    shapes = {}
    for name, body in data.items():
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict) or not body.get("key"):
            raise ShapeError(f"{path}: shape {name} needs 'key' and 'fields'")
        fields = tuple(_field(name, f, b) for f, b in body["fields"].items())
        missing = [k for k in body["key"] if k not in {f.name for f in fields}]
        if missing:
            raise ShapeError(f"{path}: shape {name}: key fields {missing} are not fields")
        shapes[str(name)] = Shape(str(name), tuple(body["key"]), fields)
    return shapes
