"""``tap-rest``: one kit tap for any REST source that fits the catalogue, described by data only.

A built-in tap is a package with a short ``tap.py`` because its settings schema is Python. This
tap reads that schema from the source's data too, so a new source that fits the kit's patterns
(token call in ``vendor.yaml``; ``rest`` streams with paging none/cursor/page in
``streams.yaml``; ``schemas/*.json``) needs a folder of files and a ``connector: rest`` entry,
no Python, no new script::

    sources:
      groupchats:
        connector: rest
        config: {source_dir: /etc/hub/sources/wecom_groupchats, base_url: ..., corpsecret: ${SECRET}}

Config keys of the tap itself: ``source_dir`` (a folder holding ``streams.yaml``, ``schemas/``
and ``vendor.yaml``), or ``catalogue_file`` and ``vendor_file`` (explicit files; each overrides
its ``source_dir`` counterpart), plus the kit's tuning knobs. Everything else is declared by the
vendor file's ``config_schema`` section (a JSON schema ``{type: object, properties, required}``;
properties marked ``secret: true`` never reach a log or an error). The config is checked against
that schema before anything runs, with one line naming the offending key (never its value).

Only ``rest`` streams are available: a stream needing Python (a ``kind`` of its own) belongs in
a tap package of its own (docs/connectors-kit.md).
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from pathlib import Path, PurePath

import jsonschema
from singer_sdk import typing as th

from connectors.kit.catalogue import read_yaml_file
from connectors.kit.errors import SourceKitError
from connectors.kit.schemas import catalogue_property, tuning_properties
from connectors.kit.tap import HubTap

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

    from connectors.kit.catalogue import StreamEntry
    from connectors.kit.source import SourceKit
    from connectors.kit.tokens import TokenCache

TAP_NAME = "tap-rest"

#: The tap's own settings (where the source's data is), merged under the data's ``config_schema``.
OWN_PROPERTIES = th.PropertiesList(
    th.Property("source_dir", th.StringType,
                description="A folder holding streams.yaml, schemas/*.json and vendor.yaml."),
    catalogue_property(),
    th.Property("vendor_file", th.StringType,
                description="A vendor.yaml (token call, error table, config_schema) replacing source_dir's."),
    *tuning_properties(),
).to_dict()


@dataclass(frozen=True)
class RestSource:
    """Where one data-only source's files are, and its merged settings schema."""

    package_dir: Path
    vendor_file: Path
    config_schema: dict[str, t.Any]


def config_dict(config: t.Any) -> dict[str, t.Any]:
    """The config as singer-sdk accepts it (a dict, a JSON file path, or a list of them) as a dict."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config)
    paths = [config] if isinstance(config, (str, PurePath)) else list(config)
    merged: dict[str, t.Any] = {}
    for path in paths:
        merged.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return merged


def resolve_source(config: t.Mapping[str, t.Any]) -> RestSource:
    """The source ``config`` points at; :class:`SourceKitError` (one line) when it cannot be used."""
    source_dir = config.get("source_dir")
    catalogue = config.get("catalogue_file")
    vendor = config.get("vendor_file")
    if not source_dir and not (catalogue and vendor):
        msg = f"{TAP_NAME}: config needs 'source_dir' (or both 'catalogue_file' and 'vendor_file')"
        raise SourceKitError(msg)
    if source_dir and not Path(source_dir).is_dir():
        msg = f"{TAP_NAME}: source_dir {source_dir} is not a folder"
        raise SourceKitError(msg)
    vendor_file = Path(vendor) if vendor else Path(source_dir) / "vendor.yaml"
    package_dir = Path(source_dir) if source_dir else Path(catalogue).parent
    return RestSource(package_dir, vendor_file, _merged_schema(vendor_file))


def _merged_schema(vendor_file: Path) -> dict[str, t.Any]:
    """The vendor file's ``config_schema`` with the tap's own settings added (data wins)."""
    data = read_yaml_file(vendor_file, f"{TAP_NAME}: vendor file {vendor_file} not found")
    declared = data.get("config_schema") if isinstance(data, dict) else None
    if not isinstance(declared, dict) or not isinstance(declared.get("properties"), dict):
        msg = f"{vendor_file}: needs a 'config_schema' mapping with 'properties' (the tap's settings)"
        raise SourceKitError(msg)
    try:
        jsonschema.Draft7Validator.check_schema(declared)
    except jsonschema.SchemaError as exc:
        msg = f"{vendor_file}: config_schema is not a valid JSON schema: {exc.message}"
        raise SourceKitError(msg) from None
    return {
        **declared,
        "type": "object",
        "properties": {**OWN_PROPERTIES["properties"], **declared["properties"]},
        "required": list(declared.get("required") or []),
    }


def settings_schema(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The settings schema of the source ``config`` points at; the tap's own when it points nowhere
    usable (callers that only mask secrets must not fail on a broken source)."""
    try:
        return resolve_source(config).config_schema
    except SourceKitError:
        return OWN_PROPERTIES


def check_config(config: t.Mapping[str, t.Any], schema: dict[str, t.Any], where: str) -> None:
    """One line naming every key ``config`` gets wrong against ``schema`` (never a value)."""
    problems = []
    for error in sorted(jsonschema.Draft7Validator(schema).iter_errors(dict(config)), key=str):
        if error.validator == "required":
            problems.append(error.message)  # "'corpsecret' is a required property": names no value
        else:
            key = ".".join(str(p) for p in error.absolute_path) or "config"
            problems.append(f"'{key}' fails {error.validator} {json.dumps(error.validator_value)}")
    if problems:
        msg = f"{TAP_NAME} ({where}): config: {'; '.join(problems)}"
        raise SourceKitError(msg)


#: One specialised class per (folder, vendor file, settings schema) and process.
_SPECIALISED: dict[tuple[str, str, str], type[TapRest]] = {}


class TapRest(HubTap):
    """The generic kit tap: ``TapRest(config=...)`` is an instance of a class specialised for the
    source its config points at (its files as ``package_dir``/``vendor_file``, its settings schema
    as ``config_jsonschema``), so every ``HubTap`` classmethod sees that source."""

    name = TAP_NAME
    package_dir = Path(__file__).parent  # replaced per source (``--about`` needs a value)
    stream_kinds: t.ClassVar[dict[str, type]] = {}  # rest streams only
    config_jsonschema = OWN_PROPERTIES
    source: t.ClassVar[RestSource | None] = None

    def __new__(cls, config: t.Any = None, *args: t.Any, **kwargs: t.Any) -> TapRest:
        if cls.source is not None:
            return super().__new__(cls)
        settings = config_dict(config)
        specialised = cls.for_config(settings)
        check_config(settings, specialised.config_jsonschema, str(specialised.source.package_dir))
        return super().__new__(specialised)

    @classmethod
    def for_config(cls, config: t.Mapping[str, t.Any]) -> type[TapRest]:
        """The class specialised for the source ``config`` points at (one per source and process)."""
        source = resolve_source(config)
        key = (str(source.package_dir), str(source.vendor_file), json.dumps(source.config_schema, sort_keys=True))
        if key not in _SPECIALISED:
            attrs = {"source": source, "package_dir": source.package_dir, "config_jsonschema": source.config_schema,
                     "__module__": cls.__module__, "__doc__": f"tap-rest on {source.package_dir}."}
            _SPECIALISED[key] = type(f"TapRest_{source.package_dir.name}", (cls,), attrs)
        return _SPECIALISED[key]

    @classmethod
    def vendor_file(cls) -> Path:
        if cls.source is None:
            msg = f"{TAP_NAME}: no source chosen (give 'source_dir' in the config)"
            raise SourceKitError(msg)
        return cls.source.vendor_file

    @classmethod
    def token_cache_factory(cls, config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
        """``hub connectors check`` calls this on ``TapRest`` itself: the source comes from ``config``."""
        if cls.source is None:
            specialised = cls.for_config(config)
            check_config(config, specialised.config_jsonschema, str(specialised.source.package_dir))
            return specialised.token_cache_factory(config, kit)
        return super().token_cache_factory(config, kit)

    def stream_for(self, entry: StreamEntry) -> Stream:
        if entry.kind != "rest":
            msg = (f"{TAP_NAME}: stream {entry.name}: kind {entry.kind!r} needs Python; "
                   "tap-rest reads kind rest only (paging none, cursor or page)")
            raise SourceKitError(msg)
        return super().stream_for(entry)


if __name__ == "__main__":
    TapRest.cli()
