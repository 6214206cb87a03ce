"""``HubTap``: a singer-sdk ``Tap`` assembled from a source's data files.

A hub REST tap is a package ``connectors/tap_<source>/`` with

- ``vendor.yaml`` - the error-code table, call budgets, retry defaults and the token call
  (:mod:`.errors`, :mod:`.pacing`, :mod:`.retry`, :mod:`.auth`);
- ``streams.yaml`` + ``schemas/`` - the stream catalogue (:mod:`.catalogue`);
- ``tap.py`` - the ``HubTap`` subclass: its name, its config schema, and (only where data
  cannot say it) stream classes registered by ``kind`` in ``stream_kinds``.

Every stream of a run shares one :class:`~.source.SourceKit` (pacer, retry policy, error table)
and one token cache: token endpoints allow only a few calls a minute, so a run fetches one token
and renews it shortly before it expires.
"""

from __future__ import annotations

import json
import typing as t
from functools import cache, cached_property
from pathlib import Path

from singer_sdk import Tap

from connectors.kit.auth import TokenSpec, make_token_cache
from connectors.kit.catalogue import (
    Catalogue,
    CatalogueStream,
    StreamEntry,
    load_catalogue,
    stream_class,
)
from connectors.kit.errors import ErrorTable, SourceKitError, load_vendor_file
from connectors.kit.source import SourceKit
from connectors.kit.writer import HubSingerWriter, flush_writer, use_state_writer

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

    from connectors.kit.tokens import TokenCache


class HubTap(Tap):
    """A tap whose streams, errors, budgets and token call come from its package's data files."""

    #: The package directory holding ``vendor.yaml``, ``streams.yaml`` and ``schemas/``.
    package_dir: t.ClassVar[Path]

    #: Stream classes for the catalogue's non-``rest`` kinds.
    stream_kinds: t.ClassVar[dict[str, type]] = {}

    #: Config key naming a catalogue file that replaces the shipped one (tenants, tests).
    CATALOGUE_CONFIG_KEY = "catalogue_file"

    #: RECORD lines written to stdout in batches (:mod:`.writer`): fewer writes, less tap CPU.
    message_writer_class = HubSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        use_state_writer(self)  # STATE compared by its line, not by a deep copy (:mod:`.writer`)

    # ---- data files
    @classmethod
    def vendor_file(cls) -> Path:
        """The source's ``vendor.yaml``."""
        return cls.package_dir / "vendor.yaml"

    @classmethod
    def token_spec(cls) -> TokenSpec:
        """The token call of the vendor file (read once per process)."""
        return _token_spec(str(cls.vendor_file()))

    @classmethod
    def secret_keys(cls) -> list[str]:
        """Config keys declared ``secret`` in the config schema: their values never reach a message."""
        properties = cls.config_jsonschema.get("properties") or {}
        return [k for k, v in properties.items() if isinstance(v, dict) and v.get("secret")]

    @classmethod
    def token_cache_factory(cls, config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
        """A token cache for ``config`` (``hub connectors check`` calls it without a kit)."""
        errors = kit.errors if kit is not None else _vendor_errors(str(cls.vendor_file()), config)
        return make_token_cache(cls.token_spec(), config, secret_keys=cls.secret_keys(), errors=errors, kit=kit)

    @cached_property
    def kit(self) -> SourceKit:
        """Pacer, retry policy and error table shared by every call of this process."""
        return SourceKit.create(self.name, self.config, self.vendor_file())

    @cached_property
    def token_cache(self) -> TokenCache:
        """One token for every stream of this run."""
        return type(self).token_cache_factory(self.config, kit=self.kit)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The stream catalogue: the config's ``catalogue_file``, else the shipped ``streams.yaml``.

        A replacing catalogue's schemas come from a ``schemas/`` folder beside it when there is
        one, else from the tap's own (so it can add streams and keep the shipped ones)."""
        chosen = self.config.get(self.CATALOGUE_CONFIG_KEY)
        if not chosen:
            return load_catalogue(self.package_dir / "streams.yaml")
        own = Path(chosen).parent / "schemas"
        return load_catalogue(chosen, own if own.is_dir() else self.package_dir / "schemas")

    # ---- streams
    def stream_for(self, entry: StreamEntry) -> Stream:
        """An instance of the class generated for ``entry`` (its kind's class as the base)."""
        base = CatalogueStream if entry.kind == "rest" else self.stream_kinds.get(entry.kind)
        if base is None:
            msg = f"{self.name}: stream {entry.name}: unknown kind {entry.kind!r} (known: rest, {', '.join(self.stream_kinds)})"
            raise SourceKitError(msg)
        return _generated(self.catalogue, entry, base)(tap=self)

    def discover_streams(self) -> list[Stream]:
        """The catalogue's default streams (taps whose config picks streams override this)."""
        return [self.stream_for(self.catalogue.entries[name]) for name in self.catalogue.default_names]

    def sync_all(self) -> None:
        """Sync, then log the run's call and budget-wait totals as a ``METRIC:`` line.

        Pending RECORD lines are written first, also when the sync fails."""
        try:
            super().sync_all()
        finally:
            flush_writer(self.message_writer)
            pacer = self.kit.pacer
            point = {
                "type": "counter",
                "metric": "budget_summary",
                "value": pacer.calls,
                "tags": {"source": self.name, "calls": pacer.calls, "waits": pacer.waits,
                         "total_wait_seconds": round(pacer.waited_seconds, 3)},
            }
            self.logger.info("METRIC: %s", json.dumps(point, separators=(",", ":")))


@cache
def _token_spec(vendor_file: str) -> TokenSpec:
    data = load_vendor_file(vendor_file)
    if not isinstance(data.get("token"), dict):
        msg = f"{vendor_file}: no 'token' section"
        raise SourceKitError(msg)
    return TokenSpec.from_mapping(data["token"])


def _vendor_errors(vendor_file: str, config: t.Mapping[str, t.Any]) -> ErrorTable | None:
    data = load_vendor_file(vendor_file)
    return ErrorTable.from_mapping(data["errors"]).with_config(config) if "errors" in data else None


_CLASSES: dict[tuple[str, str, type], type] = {}


def _generated(catalogue: Catalogue, entry: StreamEntry, base: type) -> type:
    """One generated class per (catalogue, entry, base), so repeated discovery reuses it."""
    key = (str(catalogue.path), repr(entry), base)
    if key not in _CLASSES:
        _CLASSES[key] = stream_class(catalogue, entry, base)
    return _CLASSES[key]
