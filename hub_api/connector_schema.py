"""Validate connector configurations and mask their secrets.

A built-in connector's config is checked against its tap's own ``config_jsonschema`` (the tap
class is found through the package's console-script entry point and imported only when needed).
Secret fields are those the schema marks ``secret``/``writeOnly``, plus, for any tap, keys whose
names say secret, password, token or key. Masked values never leave the API.
"""

from __future__ import annotations

import re
from functools import cache

MASK = "********"
_SECRET_NAME = re.compile(r"secret|passw|token|api_?key|private|credential|permanent_code", re.IGNORECASE)


@cache
def builtin_schema(connector: str) -> dict:
    """The JSON schema of a built-in connector's config."""
    from importlib import import_module
    from importlib.metadata import entry_points

    from connectors.sources import BUILTIN_TAPS

    [entry] = [e for e in entry_points(group="console_scripts") if e.name == BUILTIN_TAPS[connector]]
    module, _, attr = entry.value.partition(":")
    return getattr(import_module(module), attr.split(".")[0]).config_jsonschema


def secret_fields(connector: str | None, config: dict) -> set[str]:
    """Top-level config keys that hold secrets."""
    marked = set()
    if connector:
        props = builtin_schema(connector).get("properties", {})
        if connector == "rest":  # its settings schema is the source's data (connectors.kit.generic)
            from connectors.kit.generic import settings_schema

            props = settings_schema(config).get("properties", {})
        marked = {name for name, spec in props.items() if spec.get("secret") or spec.get("writeOnly")}
    return marked | {k for k in config if _SECRET_NAME.search(k)}


def _mask_nested(value):
    if isinstance(value, dict):
        return {k: MASK if _SECRET_NAME.search(k) and v is not None else _mask_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_nested(v) for v in value]
    return value


def mask(connector: str | None, config: dict) -> dict:
    """The config with every secret value replaced by ``MASK``."""
    secret = secret_fields(connector, config)
    return {k: MASK if k in secret and v is not None else _mask_nested(v) for k, v in config.items()}


def _message(error) -> str:
    # Built from the schema, never from the value: the value may be a secret.
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        return f"must be of type {' or '.join(expected) if isinstance(expected, list) else expected}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind] + \
            f" {expected} required"
    if kind == "enum":
        return f"must be one of {expected}"
    if kind in ("minLength", "maxLength", "minItems", "maxItems", "pattern", "format"):
        return f"violates {kind} {expected}"
    if kind == "additionalProperties":
        return "has unknown fields"
    return f"is invalid ({kind})"


def config_errors(connector: str | None, config: dict) -> list[dict]:
    """Field-level errors of a config (empty when valid); locations start at ``body.config``."""
    if not connector:
        return []
    from jsonschema import Draft7Validator

    schema = builtin_schema(connector)
    errors = []
    for error in sorted(Draft7Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        loc = ["body", "config", *map(str, error.absolute_path)]
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            errors.extend({"loc": loc + [name], "msg": "field required", "type": "missing"} for name in missing)
        else:
            errors.append({"loc": loc, "msg": _message(error), "type": "value_error"})
    return errors
