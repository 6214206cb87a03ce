"""Stream catalogues as data: ``connectors/tap_<source>/streams.yaml`` plus ``schemas/*.json``.

A catalogue lists a tap's streams - name, path, method, keys, replication key, paging, where
the records are in a reply - and the tap's discovery builds one stream class per entry. Each
stream's JSON schema is a file ``schemas/<schema>.json`` read through singer-sdk's
``SchemaDirectory`` (``schema`` defaults to the stream name; an entry may also hold it inline).

``kind`` picks the stream class: ``rest`` (the default) is :class:`CatalogueStream`, a complete
stream driven by the entry alone, so a new endpoint that fits needs no Python; other kinds are
classes a tap registers for what data cannot say (keyset passes, document fan-out, ...).

File shape::

    defaults: {kind: rest, method: GET}     # merged under every entry (and template)
    templates:                              # partial entries for names the config adds
      object: {schema: _generic}
    streams:
      - name: groupchats
        path: /cgi-bin/externalcontact/groupchat/list
        method: POST
        primary_keys: [chat_id]
        replication_key: null
        sorted: false
        records: $.group_chat_list[*]       # JSONPath of the records in a reply
        params: {}                          # fixed query parameters
        config_params: {}                   # query parameter -> config key (when set)
        body: {limit: 1000}                 # fixed JSON body (POST)
        paging: {kind: cursor, token: $.next_cursor, to: body.cursor}
        default: true                       # read unless the config names its streams
        options: {}                         # class attributes for the kind's Python

Paging kinds: ``none``; ``cursor`` (``token`` JSONPath, sent ``to`` ``body.<f>`` or
``query.<p>``); ``page`` (``param``, ``size_param``, ``size_config``, ``size_default``,
``start``: page numbers until a short page).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.pagination import (
    BaseAPIPaginator,
    JSONPathPaginator,
    PageNumberPaginator,
)

from connectors.kit import yamltext
from connectors.kit.errors import SourceKitError
from connectors.kit.rest import HubRESTStream, response_json

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

PAGING_KINDS = ("none", "cursor", "page")
_ENTRY_KEYS = {
    "name", "kind", "path", "method", "primary_keys", "replication_key", "sorted", "records", "params",
    "config_params", "body", "paging", "default", "options", "schema", "bookmarks", "description",
}


@dataclass(frozen=True)
class StreamEntry:
    """One stream of a catalogue (see the module docstring)."""

    name: str
    kind: str = "rest"
    path: str = ""
    method: str = "GET"
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    sorted: bool = False
    records: str = "$[*]"
    params: dict[str, t.Any] = field(default_factory=dict)
    config_params: dict[str, str] = field(default_factory=dict)
    body: dict[str, t.Any] | None = None
    paging: dict[str, t.Any] = field(default_factory=lambda: {"kind": "none"})
    default: bool = True
    options: dict[str, t.Any] = field(default_factory=dict)
    schema: str | dict[str, t.Any] | None = None
    bookmarks: str | None = None

    @classmethod
    def parse(cls, where: str, data: t.Mapping[str, t.Any]) -> StreamEntry:
        """An entry from its mapping; :class:`SourceKitError` (one line) when malformed."""
        unknown = sorted(set(data) - _ENTRY_KEYS)
        if unknown:
            msg = f"{where}: unknown keys {unknown}"
            raise SourceKitError(msg)
        if not data.get("name"):
            msg = f"{where}: an entry needs a name"
            raise SourceKitError(msg)
        name = str(data["name"])
        paging = dict(data.get("paging") or {"kind": "none"})
        if paging.get("kind", "none") not in PAGING_KINDS:
            msg = f"{where}: {name}: paging kind must be one of {', '.join(PAGING_KINDS)}"
            raise SourceKitError(msg)
        if data.get("bookmarks") not in (None, "record", "stream"):
            msg = f"{where}: {name}: bookmarks is record or stream"
            raise SourceKitError(msg)
        schema = data.get("schema")
        if schema is not None and not isinstance(schema, (str, dict)):
            msg = f"{where}: {name}: schema is a file name (without .json) or an inline JSON schema"
            raise SourceKitError(msg)
        return cls(
            name=name,
            kind=str(data.get("kind") or "rest"),
            path=str(data.get("path") or "").replace("{name}", name),
            method=str(data.get("method") or "GET").upper(),
            primary_keys=tuple(str(k) for k in data.get("primary_keys") or ()),
            replication_key=data.get("replication_key") or None,
            sorted=bool(data.get("sorted", False)),
            records=str(data.get("records") or "$[*]"),
            params=dict(data.get("params") or {}),
            config_params={str(k): str(v) for k, v in (data.get("config_params") or {}).items()},
            body=dict(data["body"]) if data.get("body") is not None else None,
            paging=paging,
            default=bool(data.get("default", True)),
            options=dict(data.get("options") or {}),
            schema=schema,
            bookmarks=str(data["bookmarks"]) if data.get("bookmarks") else None,
        )


@dataclass(frozen=True)
class Catalogue:
    """A tap's streams (in file order) and templates, with its schema directory."""

    path: Path
    entries: dict[str, StreamEntry]
    templates: dict[str, dict[str, t.Any]]
    defaults: dict[str, t.Any]
    schema_dir: Path

    @property
    def schemas(self) -> SchemaDirectory:
        """singer-sdk's ``SchemaDirectory`` over the catalogue's schema directory."""
        return _schema_directory(str(self.schema_dir))

    @property
    def default_names(self) -> list[str]:
        """The streams read when the config does not name its own."""
        return [name for name, entry in self.entries.items() if entry.default]

    def entry(self, name: str, template: str | None = None) -> StreamEntry:
        """The entry of ``name``, or one made from ``template`` for a name the config adds."""
        if name in self.entries:
            return self.entries[name]
        if template is None or template not in self.templates:
            msg = f"{self.path}: no stream {name!r} and no template {template!r}"
            raise SourceKitError(msg)
        return StreamEntry.parse(f"{self.path}: templates.{template}",
                                 {**self.defaults, **self.templates[template], "name": name})


@cache
def _schema_directory(path: str) -> SchemaDirectory:
    return SchemaDirectory(Path(path))


def read_yaml_file(path: Path, missing: str):
    """A source's YAML file, parsed; a missing file raises ``missing``, bad YAML names the file and
    the parser's first line - one :class:`SourceKitError` either way, never a traceback."""
    try:
        return yamltext.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceKitError(missing) from None
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {str(exc).splitlines()[0]}"
        raise SourceKitError(msg) from None


def load_catalogue(path: str | Path, schema_dir: str | Path | None = None) -> Catalogue:
    """Read a catalogue file; one clear line (file, entry, what) when it is malformed.

    Schemas come from ``schema_dir`` (default: ``schemas/`` beside the file)."""
    path = Path(path)
    data = read_yaml_file(path, f"stream catalogue {path} not found")
    if not isinstance(data, dict) or not isinstance(data.get("streams"), list):
        msg = f"{path}: expected a mapping with a 'streams' list"
        raise SourceKitError(msg)
    defaults = dict(data.get("defaults") or {})
    entries: dict[str, StreamEntry] = {}
    for index, body in enumerate(data["streams"]):
        if not isinstance(body, dict):
            msg = f"{path}: streams[{index}] must be a mapping"
            raise SourceKitError(msg)
        entry = StreamEntry.parse(f"{path}: streams[{index}]", {**defaults, **body})
        if entry.name in entries:
            msg = f"{path}: stream {entry.name!r} is listed twice"
            raise SourceKitError(msg)
        entries[entry.name] = entry
    templates = {str(k): dict(v or {}) for k, v in (data.get("templates") or {}).items()}
    return Catalogue(path, entries, templates, defaults, Path(schema_dir or path.parent / "schemas"))


def stream_class(catalogue: Catalogue, entry: StreamEntry, base: type) -> type:
    """A stream class for ``entry`` on ``base`` (the kind's class): the entry's data as class
    attributes and its schema from the catalogue's ``SchemaDirectory`` (or inline)."""
    schema: t.Any
    if isinstance(entry.schema, dict):
        schema = entry.schema
    else:
        schema = StreamSchema(catalogue.schemas, key=entry.schema or entry.name)
    attrs: dict[str, t.Any] = {
        "name": entry.name,
        "catalogue_entry": entry,
        "path": entry.path or getattr(base, "path", ""),
        "http_method": entry.method,
        "primary_keys": list(entry.primary_keys),
        "replication_key": entry.replication_key,
        "is_sorted": entry.sorted,
        "records_jsonpath": entry.records,
        "schema": schema,
        "__doc__": f"{entry.name}: generated from {catalogue.path.name} (kind {entry.kind}).",
        "__module__": base.__module__,
        **entry.options,
    }
    if entry.bookmarks is not None:
        attrs["bookmarks"] = entry.bookmarks
    return type(f"{entry.name}Stream", (base,), attrs)


# --------------------------------------------------------------------------- the generic stream


class ShortPagePaginator(PageNumberPaginator):
    """Page numbers from ``start`` until a page holds fewer than ``page_size`` records."""

    def __init__(self, stream: CatalogueStream, start: int, page_size: int) -> None:
        super().__init__(start)
        self.stream = stream
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        return len(list(self.stream.parse_response(response))) >= self.page_size


class CatalogueStream(HubRESTStream):
    """A REST stream driven entirely by its catalogue entry (``kind: rest``)."""

    catalogue_entry: t.ClassVar[StreamEntry]

    @property
    def paging(self) -> dict[str, t.Any]:
        """The entry's paging spec."""
        return self.catalogue_entry.paging

    @property
    def page_size(self) -> int:
        """Records per page (``page`` paging): the config's ``size_config`` or the default."""
        paging = self.paging
        value = self.config.get(str(paging.get("size_config") or "page_size"))
        return max(1, int(value or paging.get("size_default") or 100))

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        kind = self.paging.get("kind", "none")
        if kind == "cursor":
            return JSONPathPaginator(str(self.paging["token"]))
        if kind == "page":
            return ShortPagePaginator(self, int(self.paging.get("start", 1)), self.page_size)
        return None

    def _paging_target(self) -> tuple[str, str] | None:
        kind = self.paging.get("kind", "none")
        if kind == "cursor":
            where, _, name = str(self.paging.get("to") or "query.cursor").partition(".")
            return where, name
        if kind == "page":
            return "query", str(self.paging.get("param") or "page")
        return None

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = dict(self.catalogue_entry.params)
        for param, key in self.catalogue_entry.config_params.items():
            if self.config.get(key) not in (None, ""):
                params[param] = self.config[key]
        target = self._paging_target()
        if target and target[0] == "query":
            if self.paging.get("kind") == "page":
                params[target[1]] = next_page_token or int(self.paging.get("start", 1))
                params[str(self.paging.get("size_param") or "page_size")] = self.page_size
            elif next_page_token:
                params[target[1]] = next_page_token
        return params

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict | None:
        if self.catalogue_entry.body is None:
            return None
        body = dict(self.catalogue_entry.body)
        target = self._paging_target()
        if target and target[0] == "body":
            body[target[1]] = next_page_token or ""
        return body

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from extract_jsonpath(self.records_jsonpath, input=response_json(response))
