"""Record admission: how a record of a stream is keyed, validated and judged before it lands.

Split from the loader (connectors/landing.py) so the judgement is one piece of code with no
database in it: a sync (:class:`connectors.landing.SingerLoader`) and a quarantine replay
(connectors/replay.py) both call :func:`admit`, so a record set aside and replayed later is
judged exactly as a fresh one. What drift is and what each policy does lives in
connectors/drift.py; this module applies it to one record. ``connectors.landing`` re-exports the
public names (``record_hash``, ``record_key``, ``stream_spec`` ...), so older imports keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match

from connectors.drift import DriftConfig, classify, new_fields, strictest, without
from connectors.kit.hashes import record_hash, record_key  # noqa: F401 (public names)
from connectors.load_events import LoadEvents

_FORMATS = FormatChecker()


def _fast_validator(schema: dict) -> Callable[[dict], Any] | None:
    """A compiled (fastjsonschema) check for the common case of a valid record, with the same
    format checks as jsonschema; None when the schema does not compile."""
    import fastjsonschema

    formats = {name: (lambda value, name=name: _FORMATS.conforms(value, name)) for name in _FORMATS.checkers}
    try:
        return fastjsonschema.compile(schema, formats=formats)
    except Exception:
        return None


@dataclass
class StreamSpec:
    """What the loader knows of one stream from its SCHEMA message, plus its pass's key set.

    ``validator`` None means the SCHEMA was invalid: every record of the stream is set aside
    with ``schema_error``."""

    key_properties: list[str]
    validator: Draft7Validator | None
    schema_error: str | None = None
    fast: Callable[[dict], Any] | None = None
    #: Keys seen in this pass, kept only for streams a key-set diff applies to.
    keys: set[str] | None = None
    #: Records of this pass whose key could not be told: a key-set diff would be unsafe.
    unkeyed: int = 0
    #: Top-level properties the SCHEMA declares (None: it declares none; no new-field drift).
    declared: frozenset[str] | None = None

    def errors(self, record: dict) -> list:
        """The validation errors of ``record`` ([] when valid). The compiled check clears valid
        records ~10x faster; jsonschema has the last word and explains failures."""
        if self.fast is not None:
            try:
                self.fast(record)
                return []
            except Exception:
                pass  # error: jsonschema below explains it (or finds the record valid after all)
        return list(self.validator.iter_errors(record))


def stream_spec(key_properties: list[str], schema: dict) -> StreamSpec:
    """How records of a stream are keyed and validated (from its SCHEMA message)."""
    return StreamSpec(key_properties, Draft7Validator(schema, format_checker=_FORMATS), fast=_fast_validator(schema),
                      declared=declared_properties(schema))


def declared_properties(schema: dict) -> frozenset[str] | None:
    """The top-level properties a SCHEMA declares; None when it declares none (an open schema:
    nothing to call undeclared)."""
    props = schema.get("properties")
    return frozenset(props) if isinstance(props, dict) and props else None


def _reason(error) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(record)"
    return f"{where}: {error.message}"


def admit(drift: DriftConfig, events: LoadEvents | None, stream: str, spec: StreamSpec, key: str | None,
          record: dict) -> tuple[str, dict | None, str | None, bool]:
    """Judge one keyed record against its stream's SCHEMA and drift policy:
    ``(outcome, record to land, reason, drifted)``; outcome ``land`` | ``freeze`` (land the
    returned copy, quarantine the payload) | ``drift`` / ``invalid`` (quarantine it).
    ``events`` records the run's drift events (None when replaying: a replay is no new event)."""
    extra = new_fields(record, spec.declared) if spec.declared is not None and \
        not spec.declared.issuperset(record) else []
    errors = spec.errors(record)
    if not errors and not extra:
        return "land", record, None, False
    drifts, others = classify(errors, extra)
    other = best_match(others) if others else None
    if other is not None:
        action = "quarantine"
    else:
        action = strictest(drift.action(stream, d.kind) for d in drifts)
    if events is not None:
        for d in drifts:
            events.drifted(stream, d.field, d.kind, d.declared, d.observed, action, key)
    if other is not None:
        return "invalid", None, _reason(other), bool(drifts)
    if action == "evolve":
        return "land", record, None, True
    what = "; ".join(f"{d.field}: declared {d.declared}, came as {d.observed}" if d.kind == "type_change"
                     else f"{d.field}: not declared (came as {d.observed})" for d in drifts)
    if action == "freeze":
        return "freeze", without(record, drifts), f"schema drift (frozen: landed without it): {what}", True
    return "drift", None, f"schema drift: {what}", True
