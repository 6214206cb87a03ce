"""Which sources the hub syncs: a YAML file IT edits, with secrets taken from the environment.

```yaml
sources:
  crm:
    connector: fxiaoke          # a built-in tap ...
    config: {base_url: https://open.fxiaoke.com, app_id: FSAID_1, app_secret: ${CRM_APP_SECRET}}
  erp_extra:
    command: [tap-jsonl]        # ... or any Singer tap executable (plus arguments)
    config: {...}
    streams: [orders]           # optional: sync only these streams
  faker:
    plugin: source-faker        # ... or a plugin installed by `hub plugins add` (Singer or Airbyte)
  ratings:
    manifest: finance_credit_ratings   # ... or an Airbyte YAML manifest (a path, or a shipped one
    config: {...}                      #     in connectors/manifests/); see docs/connectors-manifest.md
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from connectors.drift import DriftConfig

BUILTIN_TAPS = {
    "fxiaoke": "tap-fxiaoke",
    "u8": "tap-u8",
    "finance": "tap-finance",
    "wecom": "tap-wecom",
    "u8db": "tap-u8db",
    "files": "tap-files",
    "rest": "tap-rest",
}

# The tap class of each built-in connector (for in-process connection checks).
BUILTIN_TAP_CLASSES = {
    "fxiaoke": "connectors.tap_fxiaoke.tap:TapFxiaoke",
    "u8": "connectors.tap_u8.tap:TapU8",
    "finance": "connectors.tap_finance.tap:TapFinance",
    "wecom": "connectors.tap_wecom.tap:TapWecom",
    "u8db": "connectors.tap_u8db.tap:TapU8DB",
    "files": "connectors.tap_files.tap:TapFiles",
    "rest": "connectors.kit.generic:TapRest",  # any REST source described by data only
}

#: Manifests shipped with the hub, usable by name (``manifest: finance_credit_ratings``).
MANIFESTS_DIR = Path(__file__).parent / "manifests"
MANIFEST_COMMAND = "source-declarative-manifest"  # airbyte-cdk's runner of YAML manifests

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SourcesError(ValueError):
    """The sources file is missing, malformed or refers to unset environment variables."""


class SourceConfig(BaseModel):
    """One configured source: a built-in connector or a Singer tap command, and its config."""

    name: str
    connector: str | None = None
    command: list[str] | None = None
    plugin: str | None = Field(default=None, description="A plugin installed with `hub plugins add`.")
    manifest: str | None = Field(default=None, description="An Airbyte declarative manifest: path or shipped name.")
    config: dict = Field(default_factory=dict)
    streams: list[str] | None = None
    enabled: bool = True
    timeout_minutes: float = Field(default=120, gt=0, description="Stop a tap that runs longer than this.")
    drift: DriftConfig = Field(default_factory=DriftConfig, description="Schema drift policy (connectors/drift.py).")
    config_error: str | None = Field(default=None, description="Why this source cannot run (set by the loader).")

    @model_validator(mode="after")
    def _one_way_to_run(self):
        if sum(bool(way) for way in (self.connector, self.command, self.plugin, self.manifest)) != 1:
            raise ValueError("give exactly one of 'connector' (built-in), 'command' (a Singer tap), "
                             "'plugin' (installed with `hub plugins add`) or 'manifest' (an Airbyte YAML manifest)")
        if self.connector and self.connector not in BUILTIN_TAPS:
            raise ValueError(f"unknown connector {self.connector!r}; built-in: {', '.join(BUILTIN_TAPS)}")
        return self

    @property
    def kind(self) -> str:
        """Which protocol the source speaks: ``singer`` or ``airbyte``."""
        if self.manifest:
            return "airbyte"
        if self.plugin:
            from connectors.plugins import PluginError, get_plugin

            try:
                return get_plugin(self.plugin).kind
            except PluginError:
                return "singer"  # tap_command() then says it is not installed
        return "singer"

    def tap_command(self) -> list[str]:
        """The executable (and arguments) that runs this source's tap or Airbyte source."""
        if self.connector:
            return [BUILTIN_TAPS[self.connector]]
        if self.plugin:
            from connectors.plugins import PluginError, get_plugin
            from connectors.singer_runner import TapError

            try:
                return get_plugin(self.plugin).command()
            except PluginError as exc:
                raise TapError(str(exc)) from None
        if self.manifest:
            return [MANIFEST_COMMAND]
        return list(self.command)

    def extra_args(self) -> list[str]:
        """Arguments after each Airbyte command: the manifest for a manifest source."""
        return ["--manifest-path", str(resolve_manifest(self.manifest))] if self.manifest else []


def resolve_manifest(manifest: str, base: Path | None = None) -> Path:
    """The manifest file: as given (or beside the sources file), else a shipped one by name."""
    given = Path(manifest).expanduser()
    candidates = [given] if given.is_absolute() else [*(([base / given]) if base else []), given]
    candidates += [MANIFESTS_DIR / manifest, MANIFESTS_DIR / f"{manifest}.yaml"]
    for path in candidates:
        if path.is_file():
            return path.absolute()
    raise SourcesError(f"manifest {manifest!r} not found (give a path, or one of: "
                       f"{', '.join(sorted(p.stem for p in MANIFESTS_DIR.glob('*.yaml')))})")


def _expand_env(value, where: str):
    if isinstance(value, str):
        def sub(match):
            name = match.group(1)
            if name not in os.environ:
                raise SourcesError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, where) for v in value]
    return value


def parse_sources(data: dict, origin: str = "sources", base: Path | None = None) -> list[SourceConfig]:
    """Validate a ``{"sources": {name: {...}}}`` mapping into source configs."""
    if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
        raise SourcesError(f"{origin}: expected a top-level 'sources:' mapping")
    result = []
    for name, body in data["sources"].items():
        if not isinstance(body, dict):
            raise SourcesError(f"{origin}: source {name!r} must be a mapping")
        config_error = None
        try:
            body = _expand_env(body, f"{origin}: sources.{name}")
        except SourcesError as exc:
            # One source missing its secret must not stop the others: it fails on its own.
            config_error, body = str(exc), {**body, "config": {}}
        if isinstance(body.get("manifest"), str) and not config_error:
            try:  # a manifest path is pinned when the file is read (relative to the file)
                body = {**body, "manifest": str(resolve_manifest(body["manifest"], base))}
            except SourcesError as exc:
                config_error = f"{origin}: sources.{name}: {exc}"
        try:
            result.append(SourceConfig(name=name, config_error=config_error, **body))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or name}: {e['msg']}" for e in exc.errors())
            raise SourcesError(f"{origin}: source {name!r}: {problems}") from None
    return result


def load_sources(path: Path) -> list[SourceConfig]:
    """Read and validate the sources YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"sources file {path} not found") from None
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path}: not valid YAML: {exc}") from None
    return parse_sources(data, str(path), Path(path).parent)
