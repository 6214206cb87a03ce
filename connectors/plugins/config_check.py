"""Check a source's config against the connector's own config schema, field by field.

Connectors report bad config vaguely (singer-sdk: "Config validation failed"; Airbyte sources
at best the first problem), so the hub asks the connector for its schema — a Singer tap's
``--about --format json`` ``settings``, an Airbyte source's ``spec`` — and names every missing
or malformed field itself, without echoing values (they may be secrets).
"""

from __future__ import annotations

import json
import subprocess

from connectors.singer_runner import TapError, resolve_executable, tap_environment


def singer_settings_schema(command: list[str], timeout_s: float = 60) -> dict:
    """The JSON schema of a Singer tap's config (``--about --format json`` -> ``settings``)."""
    exe = resolve_executable(command[0])
    try:
        done = subprocess.run([exe, *command[1:], "--about", "--format", "json"], capture_output=True,
                              timeout=timeout_s, env=tap_environment([]), stdin=subprocess.DEVNULL, check=False)
        about = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        raise TapError(f"{command[0]} --about gave no settings schema: {type(exc).__name__}") from None
    settings = about.get("settings") if isinstance(about, dict) else None
    return settings if isinstance(settings, dict) else {}


def config_schema(source) -> dict:
    """The config JSON schema of a configured source (Singer or Airbyte)."""
    if source.kind == "airbyte":
        from connectors.airbyte_runner import source_process

        if source.manifest:  # the generic runner's spec is not the manifest's: read it from the YAML
            import yaml

            from connectors.sources import resolve_manifest

            manifest = yaml.safe_load(resolve_manifest(source.manifest).read_text(encoding="utf-8"))
            spec = {"connectionSpecification": (manifest.get("spec") or {}).get("connection_specification") or {}}
        else:
            spec = source_process(source, timeout_s=120).spec()
        return spec.get("connectionSpecification") or spec.get("connection_specification") or {}
    if source.connector == "rest":  # tap-rest's settings schema is the source's data (connectors/kit/generic.py)
        from connectors.kit.generic import settings_schema

        return settings_schema(source.config)
    return singer_settings_schema(source.tap_command())


def config_problems(source) -> list[str]:
    """One line per problem of the source's config (empty: it fits the connector's schema)."""
    from connectors.airbyte_runner import validate_config

    return validate_config({"connectionSpecification": config_schema(source)}, source.config)
