"""The declarative mapping configuration, validated strictly: a misspelled key is an error.

A stream file (``mappings/streams/*.yaml``) lists ``streams``; each names the landed source
stream, the unified table it feeds, how its record reference is formed and a field map. Code
tables (stages, statuses, currencies, ...) sit under ``codes`` in any file of the folder.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mappings.declarative.casts import CASTS

DEFAULT_STREAMS_DIR = Path(__file__).resolve().parent.parent / "streams"
Cast = Literal[tuple(CASTS)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """How one target column is filled. ``source`` is a dotted path into the record; ``^name``
    reads the parent document from a line; ``$ref``, ``$parent_ref``, ``$line_no`` and
    ``$is_current`` are engine values. ``value`` is a constant instead."""

    source: str | list[str] | None = None  # a list: the first non-empty path wins
    value: Any = None
    cast: Cast = "str"
    first: bool = False  # a list value: take its first element
    codes: str | None = None  # translate through this code table
    default: Any = None  # code-table result for a code the table lacks (else: a finding)
    template: str | None = None  # format the cast value into e.g. "u8:customer:{}"
    lookup: Literal["employee"] | None = None  # resolve the (templated) value to an employee id
    required: bool = False
    max_length: int | None = None
    true_if: dict[str, list[Any]] = Field(default_factory=dict)  # bool: also true when path has one of these

    @model_validator(mode="after")
    def _one_origin(self):
        if (self.source is None) == (self.value is None):
            raise ValueError("give exactly one of 'source' or 'value'")
        return self


class LineSpec(_Strict):
    """Document lines carried in a list field of the header (U8 ``entry``)."""

    path: str
    entity: str
    parent_column: str
    fields: dict[str, FieldSpec]
    key_fields: list[str] = Field(default_factory=list)


class StreamSpec(_Strict):
    """One landed stream feeding one unified entity (and optionally its lines)."""

    system: str  # crm | u8 | finance | wecom: resolved to the landed source by ``systems``
    stream: str
    entity: str
    ref: str  # e.g. "crm:NewOpportunityObj:{_id}"; every placeholder is a required source path
    versions: Literal["current", "all"] = "current"
    timezone: str | None = None  # local time zone of this stream's dates and local times (default: the mapping's)
    fields: dict[str, FieldSpec]
    key_fields: list[str] = Field(default_factory=list)
    lines: LineSpec | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value):
        if value is not None:
            ZoneInfo(value)  # raises for an unknown zone
        return value

    @property
    def ref_paths(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.ref) if name]


class StreamFile(_Strict):
    streams: list[StreamSpec] = Field(default_factory=list)
    codes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    unmapped: dict[str, str] = Field(default_factory=dict)  # "system.stream" -> why it has no entity here


class DeclarativeConfig(_Strict):
    streams: list[StreamSpec]
    codes: dict[str, dict[str, Any]]
    unmapped: dict[str, str] = Field(default_factory=dict)

    def covers(self, system: str, stream: str) -> bool:
        """Whether a landed stream is mapped or deliberately left out."""
        return f"{system}.{stream}" in self.unmapped or any(
            s.system == system and s.stream == stream for s in self.streams)

    @model_validator(mode="after")
    def _targets_exist(self):
        from hub_core.schema import metadata

        for s in self.streams:
            for entity, fields, keys in [(s.entity, s.fields, s.key_fields)] + (
                    [(s.lines.entity, s.lines.fields, s.lines.key_fields)] if s.lines else []):
                if entity not in metadata.tables:
                    raise ValueError(f"{s.system}.{s.stream}: unknown entity table {entity!r}")
                unknown = (set(fields) | set(keys)) - set(metadata.tables[entity].c.keys())
                if unknown:
                    raise ValueError(f"{s.system}.{s.stream}: {entity} has no column(s) {sorted(unknown)}")
        return self

    @model_validator(mode="after")
    def _codes_exist(self):
        for s in self.streams:
            specs = list(s.fields.values()) + (list(s.lines.fields.values()) if s.lines else [])
            for f in specs:
                if f.codes and f.codes not in self.codes:
                    raise ValueError(f"{s.system}.{s.stream}: unknown code table {f.codes!r}")
        return self


def load_streams(folder: Path | str | None = None) -> DeclarativeConfig:
    """Read every ``*.yaml`` of the folder (sorted) into one validated configuration."""
    folder = Path(folder or DEFAULT_STREAMS_DIR)
    streams, codes, unmapped = [], {}, {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            part = StreamFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except Exception as exc:
            raise ValueError(f"{path.name}: {exc}") from exc
        streams.extend(part.streams)
        unmapped.update(part.unmapped)
        for name, table in part.codes.items():
            if name in codes:
                raise ValueError(f"{path.name}: code table {name!r} defined twice")
            codes[name] = {str(k): v for k, v in table.items()}
    return DeclarativeConfig(streams=streams, codes=codes, unmapped=unmapped)
