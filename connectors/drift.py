"""Schema drift at the loader: a record that does not match its stream's declared SCHEMA *in shape*.

Two kinds of drift, each with a policy per stream (the source's ``drift:`` block in
connectors.yaml, see docs/quarantine.md):

* ``type_change`` - a declared field came with another JSON type (``"amount": "12.50"`` where
  the SCHEMA says ``number``). Default ``quarantine``: the mappings rely on declared types.
* ``new_field`` - a field the SCHEMA does not declare. Default ``evolve``: extra data harms nobody.

Policies: ``evolve`` lands the record as it came; ``freeze`` lands it without the drifted
field(s) and keeps the whole payload in the quarantine as a finding; ``quarantine`` sets the
record aside (its last good version stays current). Every event is counted per run and stored
in ``schema_drift`` whatever the policy. Any other validation error (a bad date, a missing
required field) is not drift: the record goes to the quarantine as ``invalid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

POLICIES = ("evolve", "freeze", "quarantine")
KINDS = ("type_change", "new_field")
_SEVERITY = {"evolve": 0, "freeze": 1, "quarantine": 2}  # the strictest action a record needs wins


class StreamPolicy(BaseModel):
    """What to do with each kind of drift (unset: the source-wide value, then the default)."""

    model_config = ConfigDict(extra="forbid")
    type_change: str | None = Field(default=None, pattern="^(evolve|freeze|quarantine)$")
    new_field: str | None = Field(default=None, pattern="^(evolve|freeze|quarantine)$")


class DriftConfig(StreamPolicy):
    """The ``drift:`` block of a source: defaults plus per-stream overrides."""

    streams: dict[str, StreamPolicy] = Field(default_factory=dict)

    def action(self, stream: str, kind: str) -> str:
        """The policy for ``kind`` drift in ``stream``."""
        own = getattr(self.streams.get(stream), kind, None) if stream in self.streams else None
        return own or getattr(self, kind) or DEFAULTS[kind]


DEFAULTS = {"type_change": "quarantine", "new_field": "evolve"}


def parse_drift(value: Any) -> DriftConfig:
    """Validate a source's ``drift:`` block (None: the defaults). Raises ``ValueError``
    (pydantic's) naming the bad key."""
    return DriftConfig.model_validate(value or {})


@dataclass(frozen=True)
class Drift:
    """One drifted field of one record."""

    path: tuple  # where the field is (property names / array indexes)
    kind: str  # type_change | new_field
    declared: str | None
    observed: str

    @property
    def field(self) -> str:
        """The field's path as text; array positions are generalised to ``*``."""
        return "/".join("*" if isinstance(p, int) else str(p) for p in self.path)


def json_type(value: Any) -> str:
    """The JSON type name of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _declared(value: Any) -> str:
    return "|".join(value) if isinstance(value, list) else str(value)


def _type_drift(error) -> Drift | None:
    """A drift when ``error`` is only about a field's JSON type, else None."""
    path = tuple(error.absolute_path)
    if not path:
        return None  # the record itself: not a field's drift
    if error.validator == "type":
        return Drift(path, "type_change", _declared(error.validator_value), json_type(error.instance))
    if error.validator in ("anyOf", "oneOf") and error.context and all(e.validator == "type" for e in error.context):
        types = sorted({t for e in error.context for t in (e.validator_value if isinstance(e.validator_value, list)
                                                            else [e.validator_value])})
        return Drift(path, "type_change", "|".join(types), json_type(error.instance))
    return None


def new_fields(record: dict, declared: frozenset[str] | None) -> list[Drift]:
    """Top-level fields of ``record`` the SCHEMA does not declare (Singer ``_sdc_*`` columns
    are metadata, never drift). ``declared`` None: the schema declares no properties at all."""
    if declared is None:
        return []
    return [Drift((name,), "new_field", None, json_type(value))
            for name, value in record.items() if name not in declared and not name.startswith("_sdc_")]


def classify(errors, extra: list[Drift]) -> tuple[list[Drift], list]:
    """Split a record's validation ``errors`` into drift and the errors that are not drift.
    ``additionalProperties`` errors are the new fields already in ``extra``."""
    drifts = list(extra)
    others = []
    for error in errors:
        drift = _type_drift(error)
        if drift is not None:
            drifts.append(drift)
        elif error.validator == "additionalProperties" and not error.absolute_path and extra:
            continue
        else:
            others.append(error)
    return drifts, others


def strictest(actions) -> str:
    """The action a record gets when several of its fields drifted."""
    return max(actions, key=_SEVERITY.__getitem__, default="evolve")


def without(record: dict, drifts: list[Drift]) -> dict:
    """A copy of ``record`` without the drifted fields (for ``freeze``)."""
    copy = dict(record)
    for drift in drifts:
        _drop(copy, drift.path)
    return copy


def _drop(node: Any, path: tuple) -> None:
    """Remove the value at ``path`` from ``node`` (copying what it changes on the way down)."""
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and head in node:
        if not rest:
            del node[head]
        else:
            node[head] = _copy(node[head])
            _drop(node[head], rest)
    elif isinstance(node, list) and isinstance(head, int) and head < len(node):
        if not rest:
            node[head] = None  # keep positions; the value is in the quarantine
        else:
            node[head] = _copy(node[head])
            _drop(node[head], rest)


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
