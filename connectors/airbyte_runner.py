"""Run an Airbyte source (a PyPI connector, or a YAML manifest through airbyte-cdk) and land it.

The Airbyte protocol is translated into the Singer messages the hub's loader already lands:
a SCHEMA per selected stream (from the configured catalog: its JSON schema, its primary key as
the record key), RECORD for every Airbyte RECORD, and STATE carrying the *whole* Airbyte state
the hub has so far (per-stream STREAM states merged by stream, a GLOBAL state, or a LEGACY
blob). The loader commits a STATE with the records before it in one transaction, so the stored
state never claims data that did not land; on the next read it is handed back to the source.
A TRACE error becomes the sync's one-line failure; LOG lines feed progress and the error tail.

Config reaches the source through a memory file (``memfd``) named ``/dev/fd/N``: readable more
than once (airbyte-cdk reads it twice), never on disk, gone with the process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Self

import orjson

from connectors.singer_runner import (
    _SET_DEATH_SIGNAL,
    TapError,
    TapObserver,
    final_error,
    redact,
    resolve_executable,
    secret_values,
    supervise,
    tap_environment,
)

STATE_KEY = "airbyte"  # the hub's stored state of an Airbyte source: {"airbyte": {...}}


class AirbyteError(TapError):
    """An Airbyte source failed (TRACE error, failed check, bad exit); no secrets inside."""


class _Documents:
    """Input documents as re-readable ``/dev/fd/N`` memory files (Linux), else private files."""

    def __init__(self, documents: dict[str, object]):
        self.documents = documents
        self.paths: dict[str, str] = {}
        self.pass_fds: list[int] = []
        self._tmp: str | None = None

    def __enter__(self) -> Self:
        use_memfd = hasattr(os, "memfd_create") and os.path.isdir("/dev/fd")
        if not use_memfd:  # pragma: no cover - not Linux
            self._tmp = tempfile.mkdtemp(prefix="hub-airbyte-")
        for name, document in self.documents.items():
            data = json.dumps(document).encode("utf-8")
            if use_memfd:
                fd = os.memfd_create(f"hub-{name}")  # close-on-exec: only pass_fds hands it on
                os.write(fd, data)
                self.pass_fds.append(fd)
                self.paths[name] = f"/dev/fd/{fd}"
            else:  # pragma: no cover
                path = Path(self._tmp) / f"{name}.json"
                path.touch(mode=0o600)
                path.write_bytes(data)
                self.paths[name] = str(path)
        return self

    def __exit__(self, *exc) -> None:
        for fd in self.pass_fds:
            os.close(fd)
        self.pass_fds = []
        if self._tmp:  # pragma: no cover
            shutil.rmtree(self._tmp, ignore_errors=True)


def _descriptor(message: dict) -> str:
    """``namespace.name`` (or ``name``) of a stream descriptor."""
    ns, name = message.get("namespace"), message.get("name")
    return f"{ns}.{name}" if ns else str(name)


def merge_state(stored: dict | None, state: dict) -> dict:
    """The hub's Airbyte state after one STATE message: STREAM states replace their stream's
    entry, GLOBAL replaces the global state, LEGACY (or untyped) replaces the legacy blob."""
    merged = {"streams": {}, "global": None, "legacy": None, **(stored or {})}
    merged["streams"] = dict(merged["streams"])
    kind = state.get("type") or "LEGACY"
    if kind == "STREAM" and isinstance(state.get("stream"), dict):
        stream = state["stream"]
        merged["streams"][_descriptor(stream.get("stream_descriptor") or {})] = {"type": "STREAM", "stream": stream}
    elif kind == "GLOBAL" and isinstance(state.get("global"), dict):
        merged["global"] = {"type": "GLOBAL", "global": state["global"]}
    else:
        merged["legacy"] = state.get("data") or {}
    return merged


def state_for_source(stored: dict | None) -> list | dict | None:
    """The state document to hand an Airbyte source from the hub's stored state."""
    value = (stored or {}).get(STATE_KEY)
    if not value:
        return None
    if value.get("global"):
        return [value["global"]]
    if value.get("streams"):
        return list(value["streams"].values())
    return value.get("legacy") or None


def configured_catalog(catalog: dict, streams: list[str] | None, incremental: bool = True) -> dict:
    """A ConfiguredAirbyteCatalog for the chosen streams (all when None): incremental where the
    stream supports it (with its default cursor), its source-defined primary key."""
    offered = {s["name"]: s for s in catalog.get("streams", [])}
    if streams is not None:
        unknown = sorted(set(streams) - set(offered))
        if unknown:
            raise AirbyteError(f"streams not offered by the source: {', '.join(unknown)}")
    chosen = []
    for name, stream in offered.items():
        if streams is not None and name not in streams:
            continue
        modes = stream.get("supported_sync_modes") or ["full_refresh"]
        cursor = stream.get("default_cursor_field") or []
        use_incremental = incremental and "incremental" in modes and (cursor or stream.get("source_defined_cursor"))
        key = stream.get("source_defined_primary_key") or []
        chosen.append({
            "stream": stream,
            "sync_mode": "incremental" if use_incremental else "full_refresh",
            "destination_sync_mode": "append_dedup" if key else "append",
            "cursor_field": cursor if use_incremental else [],
            "primary_key": key,
        })
    return {"streams": chosen}


def key_properties(primary_key: list) -> list[str]:
    """Top-level field names of an Airbyte primary key (``[["id"]]`` -> ``["id"]``). A nested
    key path cannot name a top-level field: it is refused with a clear error."""
    names = []
    for path in primary_key or []:
        path = [path] if isinstance(path, str) else list(path)
        if len(path) != 1:
            raise AirbyteError(f"nested primary key {'.'.join(map(str, path))} is not supported")
        names.append(str(path[0]))
    return names


_NAIVE_TYPES = {"timestamp_without_timezone", "time_without_timezone"}


def singer_schema(schema):
    """An Airbyte JSON schema with Airbyte's typing made JSON Schema: a ``date-time`` or ``time``
    declared ``airbyte_type: timestamp_without_timezone`` (or ``time_...``) has no offset, which
    JSON Schema's formats would refuse, so that format is dropped (the type stays)."""
    if isinstance(schema, list):
        return [singer_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: singer_schema(v) for k, v in schema.items()}
    if out.get("airbyte_type") in _NAIVE_TYPES and out.get("format") in ("date-time", "time"):
        out.pop("format")
    return out


class AirbyteTranslator:
    """Airbyte messages -> Singer message lines for the loader (see the module docstring)."""

    def __init__(self, catalog: dict, stored_state: dict | None, on_log: Callable[[str], None]):
        self.catalog = catalog
        self.state = dict((stored_state or {}).get(STATE_KEY) or {})
        self.on_log = on_log
        self.errors: list[str] = []
        self.states = 0

    def schemas(self) -> Iterator[bytes]:
        for entry in self.catalog["streams"]:
            stream = entry["stream"]
            yield orjson.dumps({"type": "SCHEMA", "stream": stream["name"], "schema": singer_schema(stream.get("json_schema") or {}),
                                "key_properties": key_properties(entry.get("primary_key")),
                                "bookmark_properties": bookmark_properties(entry)})

    def translate(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        """The Singer lines for the source's stdout ``lines``."""
        yield from self.schemas()
        for raw in lines:
            try:
                message = orjson.loads(raw)
                kind = message["type"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                if text.strip():
                    self.on_log(text.rstrip("\n"))  # connectors may print plain text: a log line
                continue
            if kind == "RECORD":
                record = message.get("record") or {}
                yield orjson.dumps({"type": "RECORD", "stream": record.get("stream"), "record": record.get("data")})
            elif kind == "STATE" and isinstance(message.get("state"), dict):
                self.state = merge_state(self.state, message["state"])
                self.states += 1
                yield orjson.dumps({"type": "STATE", "value": {STATE_KEY: self.state}})
            elif kind == "LOG":
                log = message.get("log") or {}
                self.on_log(f"{log.get('level', 'INFO')} {log.get('message', '')}")
            elif kind == "TRACE":
                trace = message.get("trace") or {}
                if trace.get("type") == "ERROR":
                    error = trace.get("error") or {}
                    self.errors.append(str(error.get("message") or error.get("internal_message") or "source error"))
            # SPEC, CATALOG, CONNECTION_STATUS, CONTROL: nothing to land during a read.


class AirbyteSource:
    """One Airbyte source process: ``spec()``, ``check()``, ``discover()``, ``read()``.

    ``command`` is the connector executable (``source-faker``, ``source-declarative-manifest``);
    ``extra_args`` go after each command's own (``--manifest-path FILE`` for a manifest)."""

    def __init__(self, command: list[str], config: dict, timeout_s: float | None = None,
                 extra_args: list[str] | None = None):
        if not command:
            raise AirbyteError("empty source command")
        self.command = [resolve_executable(command[0]), *command[1:]]
        self.name = Path(self.command[0]).name
        self.config = config
        self.extra_args = list(extra_args or [])
        self.secrets = secret_values(config)
        self.timeout_s = timeout_s
        self.env = tap_environment(self.secrets)
        self.tail: deque[str] = deque(maxlen=80)

    # -- plumbing -------------------------------------------------------------------------
    def _popen(self, args: list[str], docs: _Documents) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                pass_fds=docs.pass_fds, preexec_fn=_SET_DEATH_SIGNAL,
            )
        except OSError as exc:
            raise AirbyteError(f"{self.name} could not be started: {exc.strerror}") from None

    def _error(self, what: str, reason: str) -> AirbyteError:
        reason = " ".join(redact(reason, self.secrets).split())  # one line
        error = AirbyteError(f"{self.name} {what} failed: {reason[:400]}")
        error.detail = redact("\n".join(self.tail), self.secrets)[-4000:]
        return error

    def _drain(self, stream, observer: TapObserver | None) -> None:
        for raw in iter(stream.readline, b""):
            self._log(raw.decode("utf-8", "replace").rstrip("\n"), observer)
        stream.close()

    def _log(self, line: str, observer: TapObserver | None = None) -> None:
        self.tail.append(line)
        if observer is not None:
            try:
                observer.tap_line(line)
            except Exception:
                pass

    def _run(self, verb: str, documents: dict, consume: Callable[[Iterator[bytes]], None],
             observer: TapObserver | None = None) -> list[str]:
        """Run ``verb`` with the documents as ``--<name> FILE``; hand stdout to ``consume``.
        Returns the TRACE error messages; raises on a bad exit without one."""
        with _Documents(documents) as docs:
            args = [*self.command, verb]
            for name, path in docs.paths.items():
                args += [f"--{name}", path]
            proc = self._popen([*args, *self.extra_args], docs)
            drain = threading.Thread(target=self._drain, args=(proc.stderr, observer), daemon=True)
            code, timed_out = supervise(proc, consume, drain, self.timeout_s)
        if timed_out:
            raise AirbyteError(f"{self.name} timed out after {self.timeout_s:.0f} s and was stopped")
        return [f"exit {code}"] if code != 0 else []

    def _messages(self, verb: str, documents: dict) -> list[dict]:
        """All protocol messages of a short command (spec, check, discover)."""
        messages: list[dict] = []

        def collect(lines: Iterator[bytes]) -> None:
            for raw in lines:
                try:
                    message = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    self._log(raw.decode("utf-8", "replace").rstrip("\n"))
                    continue
                if isinstance(message, dict):
                    messages.append(message)
                    if message.get("type") == "LOG":
                        self._log(str((message.get("log") or {}).get("message", "")))

        bad_exit = self._run(verb, documents, collect)
        traces = [m["trace"]["error"].get("message") or "source error" for m in messages
                  if m.get("type") == "TRACE" and (m.get("trace") or {}).get("type") == "ERROR"]
        if traces:
            raise self._error(verb, traces[0])  # the first error is the cause; later ones sum up
        if bad_exit:
            raise self._error(verb, final_error(list(self.tail)) or bad_exit[0])
        return messages

    def _one(self, verb: str, documents: dict, kind: str, field: str) -> dict:
        for message in self._messages(verb, documents):
            if message.get("type") == kind and isinstance(message.get(field), dict):
                return message[field]
        raise self._error(verb, f"no {kind} message in the output")

    # -- the protocol ---------------------------------------------------------------------
    def spec(self) -> dict:
        """The connector's specification (``connectionSpecification`` is the config's JSON schema)."""
        return self._one("spec", {}, "SPEC", "spec")

    def check(self) -> None:
        """Raise AirbyteError with the source's own message unless the connection succeeds."""
        status = self._one("check", {"config": self.config}, "CONNECTION_STATUS", "connectionStatus")
        if status.get("status") != "SUCCEEDED":
            raise self._error("check", str(status.get("message") or status.get("status")))

    def discover(self) -> dict:
        """The source's AirbyteCatalog."""
        return self._one("discover", {"config": self.config}, "CATALOG", "catalog")

    def read(self, catalog: dict, stored_state: dict | None, consume: Callable[[Iterable[bytes]], object],
             observer: TapObserver | None = None) -> AirbyteTranslator:
        """Read the configured ``catalog`` from ``stored_state`` (the hub's, or None for a full
        read), handing Singer lines to ``consume`` (the loader's feed). TRACE errors or a bad
        exit raise after what was read has been consumed (records land; the state stays)."""
        translator = AirbyteTranslator(catalog, stored_state, lambda line: self._log(line, observer))
        documents: dict = {"config": self.config, "catalog": catalog}
        state = state_for_source(stored_state)
        if state:
            documents["state"] = state
        bad_exit = self._run("read", documents, lambda lines: consume(translator.translate(lines)), observer)
        if translator.errors:
            raise self._error("read", translator.errors[0])
        if bad_exit:
            raise self._error("read", final_error(list(self.tail)) or bad_exit[0])
        return translator


def validate_config(spec: dict, config: dict) -> list[str]:
    """One line per problem of ``config`` against the spec's ``connectionSpecification``
    (without the offending values: they may be secrets)."""
    from jsonschema import Draft7Validator

    schema = spec.get("connectionSpecification") or spec.get("connection_specification") or {}
    problems = []
    for error in sorted(Draft7Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "config"
        if error.validator == "required":
            problems.append(f"{where}: {error.message}")
        else:
            problems.append(f"{where}: must satisfy {error.validator} {error.validator_value!r}"[:300])
    return problems


def source_process(source, timeout_s: float | None = None) -> AirbyteSource:
    """The AirbyteSource of a configured source (``plugin:`` of kind airbyte, or ``manifest:``)."""
    return AirbyteSource(source.tap_command(), source.config, extra_args=source.extra_args(),
                         timeout_s=timeout_s if timeout_s is not None else source.timeout_minutes * 60)


def sync_airbyte(source, state: dict | None, feed: Callable[[Iterable[bytes]], object],
                 observer: TapObserver | None = None) -> AirbyteTranslator:
    """Discover, configure the chosen streams (incremental where supported) and read from
    ``state`` (None: a full read) into ``feed`` (the loader's)."""
    process = source_process(source)
    catalog = configured_catalog(process.discover(), source.streams)
    return process.read(catalog, state, feed, observer=observer)


def bookmark_properties(entry: dict) -> list[str]:
    """The Singer ``bookmark_properties`` of a configured stream. An incremental read sees only
    what changed, so it must never count as a whole pass (the loader soft-deletes keys missing
    from whole passes): incremental streams always name their cursor, source-defined or not."""
    if entry.get("sync_mode") != "incremental":
        return []
    cursor = entry.get("cursor_field") or entry["stream"].get("default_cursor_field") or []
    return [".".join(map(str, cursor)) or "source-defined cursor"]


def singer_catalog(catalog: dict) -> dict:
    """An AirbyteCatalog described as a Singer catalog (for ``hub connectors discover``)."""
    streams = []
    for stream in catalog.get("streams", []):
        incremental = "incremental" in (stream.get("supported_sync_modes") or [])
        cursor = stream.get("default_cursor_field") or []
        streams.append({
            "tap_stream_id": stream["name"], "stream": stream["name"],
            "schema": singer_schema(stream.get("json_schema") or {}),
            "key_properties": [".".join(map(str, p)) for p in stream.get("source_defined_primary_key") or []],
            "replication_method": "INCREMENTAL" if incremental else "FULL_TABLE",
            "replication_key": ".".join(map(str, cursor)) or None,
        })
    return {"streams": streams}
