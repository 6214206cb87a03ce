"""Land a Singer message stream into the warehouse's raw tables.

This is the hub's own Singer *target*: it takes the stdout of any Singer tap (ours or a
third-party executable), validates each RECORD against its stream's SCHEMA, and lands records
in batches. Raw records are versioned by content hash: a record whose current version has the
same hash is not landed again, so re-extracted, unchanged data adds no rows. A STATE message
flushes the records before it and writes the bookmark in the same transaction, so the state
never claims data that was not committed. A record that fails validation is set aside in the
quarantine (``raw_reject``, connectors/quarantine.py) with its reason - once per distinct
payload, however many runs bring it again; it never stops the sync. A record that only
*drifted* from its SCHEMA (a declared field with another type, an undeclared field) follows its
stream's drift policy (connectors/drift.py); every drift event is stored (``schema_drift``). A
key that comes twice in one run: the last version wins and the repeat is reported
(``sync_duplicate_key``, connectors/load_events.py).

Records a tap itself had to set aside (e.g. a document whose detail call keeps failing) come as
records of the stream :data:`REJECT_STREAM` - ``{"stream", "record_key", "reason", "data"}`` -
and land in the quarantine too, counted as seen and rejected for the stream they belong to.

Deletions: a source that deletes by flag (CRM ``is_deleted`` / ``life_status``) sends ordinary
records; they land as any other and the mappings decide. A *full-table* stream - one whose
SCHEMA names no ``bookmark_properties``, or any stream of a ``full_refresh`` load - is re-read
whole on every run; once the tap has exited successfully, :meth:`SingerLoader.finish_pass`
compares the keys seen with the stream's current raw records and marks those not seen as deleted
(``raw_record.deleted_at``; soft - the data stays). Never after a failed or partial pass, never
for incremental streams. A deleted record that comes back lands as a new, live version. A pass that
returned far fewer of the live records than the stream holds (more than ``max_drop`` of them
missing, or none returned) is taken for an outage: its deletions are *withheld* and counted
(:mod:`connectors.landing_deletes`; ``LoadStats.withheld``), so the source's last good data stays.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable, Iterable

import orjson
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import SchemaError, best_match
from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, select, update

from connectors.drift import DriftConfig, classify, new_fields, strictest, without
from connectors.landing_deletes import mark_unseen_deleted
from connectors.load_events import LoadEvents
from connectors.quarantine import MAX_CURSOR, QuarantineBook, text_hash
from hub_core.schema import raw_record, raw_stream, sync_state
from hub_core.settings import DEFAULT_MAX_DROP

log = logging.getLogger(__name__)

_KEY_CHUNK = 500  # stays under SQLite's bound-parameter limit
MAX_KEY = 500  # raw_record.record_key
MAX_STREAM = 200  # raw_record.stream
ANALYZE_EVERY = 20_000  # rows landed between statistics refreshes on PostgreSQL
#: Records a tap set aside itself (see the module docstring).
REJECT_STREAM = "_rejects"


@dataclass
class StreamStats:
    seen: int = 0
    landed: int = 0
    rejected: int = 0  # set aside (every occurrence, also of payloads quarantined before)
    deleted: int = 0  # marked deleted by a full-table key-set diff
    quarantined: int = 0  # new quarantine entries (payloads not set aside before)
    duplicates: int = 0  # occurrences of a key already seen in this run (the last one wins)
    drifted: int = 0  # records that drifted from the declared schema (any policy)
    frozen: int = 0  # drifted records landed without their drifted fields (policy freeze)
    withheld: int = 0  # not returned by a pass too small to believe: not marked (see finish_pass)
    live: int = 0  # live records before the pass (full-table streams; the base of ``withheld``)


@dataclass
class LoadStats:
    """Counts per stream for one load, plus the last state committed."""

    streams: dict[str, StreamStats] = field(default_factory=lambda: defaultdict(StreamStats))
    state: dict | None = None
    unparsable: int = 0
    quarantined_other: int = 0  # new quarantine entries of no stream (lines that were not Singer...)
    drift_events: int = 0  # distinct schema drift events of the run

    @property
    def seen(self) -> int:
        return sum(s.seen for s in self.streams.values())

    @property
    def landed(self) -> int:
        return sum(s.landed for s in self.streams.values())

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.streams.values()) + self.unparsable

    @property
    def deleted(self) -> int:
        return sum(s.deleted for s in self.streams.values())

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.streams.values()) + self.quarantined_other

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.streams.values())

    @property
    def set_aside(self) -> int:
        """Records or field values this run put in the quarantine: the run ends ``partial``."""
        return self.rejected + sum(s.frozen for s in self.streams.values())

    @property
    def withheld(self) -> dict[str, dict[str, int]]:
        """Streams whose deletions were withheld: ``{stream: {"live": n, "withheld": n}}``."""
        return {name: {"live": s.live, "withheld": s.withheld} for name, s in sorted(self.streams.items())
                if s.withheld}


_FORMATS = FormatChecker()


def _fast_validator(schema: dict) -> Callable[[dict], Any] | None:
    """A compiled (fastjsonschema) check for the common case of a valid record, with the same
    format checks as jsonschema; None when the schema does not compile."""
    import fastjsonschema

    formats = {name: (lambda value, name=name: _FORMATS.conforms(value, name)) for name in _FORMATS.checkers}
    try:
        return fastjsonschema.compile(schema, formats=formats)
    except Exception:  # any schema fastjsonschema cannot compile: jsonschema alone decides
        return None


@dataclass
class _Stream:
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
            except Exception:  # JsonSchemaValueException or a format callable's error
                pass
        return list(self.validator.iter_errors(record))


def stream_spec(key_properties: list[str], schema: dict) -> _Stream:
    """How records of a stream are keyed and validated (from its SCHEMA message)."""
    return _Stream(key_properties, Draft7Validator(schema, format_checker=_FORMATS), fast=_fast_validator(schema),
                   declared=declared_properties(schema))


def current_versions(source: str, stream: str):
    """The current versions of the records keyed by the expanding ``keys`` parameter. Written
    so both planners use the partial index ``uq_raw_record_current`` (see hub_core/schema.py)."""
    return and_(
        raw_record.c.source == source,
        raw_record.c.stream == stream,
        raw_record.c.is_current,
        raw_record.c.record_key.in_(bindparam("keys", expanding=True)),
    )


def declared_properties(schema: dict) -> frozenset[str] | None:
    """The top-level properties a SCHEMA declares; None when it declares none (an open schema:
    nothing to call undeclared)."""
    props = schema.get("properties")
    return frozenset(props) if isinstance(props, dict) and props else None


def record_hash(record: dict) -> str:
    """A stable content hash; Singer metadata columns (``_sdc_*``) do not count as content."""
    content = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_key(record: dict, key_properties: list[str]) -> str:
    """The record's natural key as text: the key value, or key values joined by ``|``."""
    if not key_properties:
        return record_hash(record)
    parts = []
    for prop in key_properties:
        value = record.get(prop)
        if value is None or value == "":
            raise ValueError(f"key property {prop!r} is missing")
        parts.append(str(value))
    return "|".join(parts)


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; keep them visible but escaped."""
    return value.replace("\x00", "\\u0000") if isinstance(value, str) else value


def _reason(error) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(record)"
    return f"{where}: {error.message}"


class SingerLoader:
    """Consumes Singer messages for one source and lands them; see the module docstring.

    ``full_refresh=True`` makes every stream's pass count as whole for :meth:`finish_pass`. Set
    it only for a run without state whose tap then reads everything: a tap that limits a
    first run (a ``start_date`` in its config) would otherwise get older records marked deleted.
    ``max_drop``: the share of a stream's live records a pass may leave out before its deletions
    are withheld as an outage (the stale-source threshold; None believes every pass).
    """

    def __init__(self, engine: Engine, source: str, sync_run_id: int, batch_size: int = 5000,
                 secrets: list[str] | None = None, full_refresh: bool = False, *,
                 drift: DriftConfig | None = None, connector: str | None = None,
                 connector_version: str | None = None, max_drop: float | None = DEFAULT_MAX_DROP):
        self.engine = engine
        self.max_drop = max_drop
        self.drift = drift or DriftConfig()
        self.book = QuarantineBook(source, sync_run_id, connector, connector_version)
        self.events = LoadEvents(source, sync_run_id)
        self._seq = 0  # message order, so a quarantine entry is only superseded by a later version
        self._cursor: str | None = None  # the last STATE before the current message (JSON text)
        self.full_refresh = full_refresh  # every stream is a whole pass: diff all key sets
        self.secrets = [s for s in (secrets or []) if len(s) >= 3]
        self.source = source
        self.sync_run_id = sync_run_id
        self.batch_size = batch_size
        self.stats = LoadStats()
        self._streams: dict[str, _Stream] = {}
        #: per stream: (key, content hash, record to land, hash of the payload it came from, seq)
        self._pending: dict[str, list[tuple[str, str, dict, str, int]]] = defaultdict(list)
        self._pending_count = 0
        self._unanalyzed = 0

    def resume_from(self, state: dict | None) -> None:
        """The state the tap starts from: the cursor of records before its first STATE."""
        self._cursor = self._cursor_text(state)

    @staticmethod
    def _cursor_text(state: dict | None) -> str | None:
        return orjson.dumps(state, default=str).decode()[:MAX_CURSOR] if state is not None else None

    # -- message handling ---------------------------------------------------------------
    def feed(self, lines: Iterable[str | bytes]) -> LoadStats:
        """Process every line of a tap's stdout, then flush what is left."""
        for line in lines:
            self.handle_line(line)
        self.flush()
        return self.stats

    def handle_line(self, line: str | bytes) -> None:
        if not line or not line.strip():
            return
        self._seq += 1
        try:
            message = orjson.loads(line)
            kind = message["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.stats.unparsable += 1
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            self._reject(None, None, "not a Singer message", text.rstrip("\n"))
            return
        if kind == "RECORD":
            self._on_record(message)
        elif kind == "SCHEMA":
            self._on_schema(message)
        elif kind == "STATE":
            self._cursor = self._cursor_text(message.get("value"))
            self.flush(state=message.get("value"))
        elif kind in ("ACTIVATE_VERSION", "BATCH"):
            log.debug("ignoring %s message for %s", kind, message.get("stream"))
        else:
            self.stats.unparsable += 1
            self._reject(None, message.get("stream"), f"unknown Singer message type {kind!r}", message)

    def _on_schema(self, message: dict) -> None:
        stream = message.get("stream")
        schema = message.get("schema")
        keys = message.get("key_properties") or []
        if not isinstance(stream, str) or not stream or len(stream) > MAX_STREAM or "\x00" in stream:
            self.stats.unparsable += 1
            self._reject(None, None, "SCHEMA message without a usable stream name", message)
            return
        problem = None
        if not isinstance(schema, dict) or not isinstance(keys, list):
            problem = "schema must be an object and key_properties a list"
        else:
            try:
                Draft7Validator.check_schema(schema)
            except SchemaError as exc:
                problem = exc.message
        if problem:
            # Keep the stream known so its records are set aside with this reason.
            self._streams[stream] = _Stream([], None, f"the stream's SCHEMA is invalid: {problem}")
            log.error("%s/%s: invalid SCHEMA: %s", self.source, stream, problem)
            return
        if stream == REJECT_STREAM:
            return  # not a stream of the source: its records go to the quarantine
        bookmarks = message.get("bookmark_properties") or []
        previous = self._streams.get(stream)
        keys_seen = previous.keys if previous is not None and previous.keys is not None else set()
        spec = self._streams[stream] = stream_spec(list(keys), schema)
        spec.keys = keys_seen if (self.full_refresh or not bookmarks) else None
        spec.unkeyed = previous.unkeyed if previous is not None else 0
        row = {
            "source": self.source,
            "stream": stream,
            "key_properties": orjson.dumps(keys).decode(),
            "json_schema": orjson.dumps(schema).decode(),
            "bookmark_properties": orjson.dumps(bookmarks if isinstance(bookmarks, list) else []).decode(),
            "updated_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            conn.execute(
                delete(raw_stream).where(
                    raw_stream.c.source == self.source, raw_stream.c.stream == stream
                )
            )
            conn.execute(insert(raw_stream), row)

    def _on_record(self, message: dict) -> None:
        stream = message.get("stream")
        record = message.get("record")
        if not isinstance(stream, str) or len(stream) > MAX_STREAM or "\x00" in stream:
            self.stats.unparsable += 1
            self._reject(None, None, "RECORD without a usable stream name", message)
            return
        if stream == REJECT_STREAM:
            self._on_tap_reject(record)
            return
        stats = self.stats.streams[stream]
        stats.seen += 1
        spec = self._streams.get(stream)
        if spec is None or spec.validator is None:
            stats.rejected += 1
            reason = spec.schema_error if spec else "RECORD before any SCHEMA for its stream"
            self._reject(None, stream, reason, record)
            return
        if not isinstance(record, dict):
            stats.rejected += 1
            self._reject(None, stream, "record is not a JSON object", record)
            return
        try:
            key = record_key(record, spec.key_properties)
            if len(key) > MAX_KEY or "\x00" in key:
                raise ValueError(f"key is longer than {MAX_KEY} characters or holds a NUL")
        except ValueError as exc:
            stats.rejected += 1
            spec.unkeyed += 1
            self._reject(None, stream, str(exc), record)
            return
        if spec.keys is not None:
            spec.keys.add(key)  # seen in this pass, valid or not: it exists at the source
        if self.events.seen_key(stream, key):
            stats.duplicates += 1  # the last version wins; reported in sync_duplicate_key
        outcome, landed, reason, drifted = self.admit(stream, spec, key, record)
        if drifted:
            stats.drifted += 1
        if outcome in ("invalid", "drift"):
            stats.rejected += 1
            self._reject(key, stream, reason, record, kind=outcome)
            return
        digest = record_hash(record)
        if outcome == "freeze":
            stats.frozen += 1
            self._reject(key, stream, reason, record, kind="drift", content_hash=digest)
            self.stage(stream, key, landed, digest)
        else:
            self.stage(stream, key, record, digest, landed_hash=digest)

    def stage(self, stream: str, key: str, record: dict, origin_hash: str, landed_hash: str | None = None) -> None:
        """Queue ``record`` to land (``origin_hash``: content hash of the payload it came from)."""
        self._pending[stream].append((key, landed_hash or record_hash(record), record, origin_hash, self._seq))
        self._pending_count += 1
        if self._pending_count >= self.batch_size:
            self.flush()

    def admit(self, stream: str, spec: _Stream, key: str | None, record: dict, *, count: bool = True):
        """Judge one keyed record against its stream's SCHEMA and drift policy:
        ``(outcome, record to land, reason, drifted)``; outcome ``land`` | ``freeze`` (land the
        returned copy, quarantine the payload) | ``drift`` / ``invalid`` (quarantine it).
        ``count`` records the drift events of the run (not when replaying)."""
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
            action = strictest(self.drift.action(stream, d.kind) for d in drifts)
        if count:
            for d in drifts:
                self.events.drifted(stream, d.field, d.kind, d.declared, d.observed, action, key)
        if other is not None:
            return "invalid", None, _reason(other), bool(drifts)
        if action == "evolve":
            return "land", record, None, True
        what = "; ".join(f"{d.field}: declared {d.declared}, came as {d.observed}" if d.kind == "type_change"
                         else f"{d.field}: not declared (came as {d.observed})" for d in drifts)
        if action == "freeze":
            return "freeze", without(record, drifts), f"schema drift (frozen: landed without it): {what}", True
        return "drift", None, f"schema drift: {what}", True

    def _on_tap_reject(self, record: Any) -> None:
        """A record the tap set aside: to ``raw_reject`` under the stream it belongs to."""
        target = record.get("stream") if isinstance(record, dict) else None
        reason = record.get("reason") if isinstance(record, dict) else None
        if not isinstance(target, str) or not target or not isinstance(reason, str) or not reason:
            self.stats.unparsable += 1
            self._reject(None, REJECT_STREAM, "a tap reject without stream and reason", record)
            return
        key = record.get("record_key")
        key = None if key in (None, "") else str(key)
        stats = self.stats.streams[target]
        stats.seen += 1
        stats.rejected += 1
        spec = self._streams.get(target)
        if spec is not None and spec.keys is not None:
            if key is None:
                spec.unkeyed += 1
            else:
                spec.keys.add(key)
        self._reject(key, target, f"set aside by the tap: {reason}", record.get("data"), kind="tap")

    def _reject(self, key, stream, reason: str, data: Any, kind: str = "invalid",
                content_hash: str | None = None) -> None:
        """Put one payload in the quarantine (merged with the same payload seen before)."""
        if stream is None:
            kind = "unparsable"
        payload = data if isinstance(data, str) else orjson.dumps(data, default=str).decode()
        for secret in self.secrets:  # a line that is not Singer may be a tap's debug print
            payload = payload.replace(secret, "***")
        if content_hash is None:
            content_hash = record_hash(data) if isinstance(data, dict) else text_hash(payload)
        self.book.add(stream=_text(stream), key=_text(key), reason=_text(reason[:2000]), kind=kind,
                      payload=_text(payload), content_hash=content_hash, cursor=self._cursor, seq=self._seq)
        self._pending_count += 1
        log.warning("%s/%s: record set aside: %s", self.source, stream, reason)

    # -- writing ------------------------------------------------------------------------
    def flush(self, state: dict | None = None) -> None:
        """Land pending records, quarantine entries and the run's drift and duplicate-key events,
        with ``state`` in the same transaction."""
        if not self._pending_count and state is None and not self.events.dirty:
            return
        landed: dict[str, int] = {}
        with self.engine.begin() as conn:
            fresh = self.book.write(conn)  # before landing: a later version then supersedes it
            for stream, batch in self._pending.items():
                landed[stream] = self._land(conn, stream, batch)
            self.events.write(conn)
            if state is not None:
                self._write_state(conn, state)
        for stream, count in landed.items():  # counted only once committed
            self.stats.streams[stream].landed += count
        for stream, count in fresh.items():
            if stream is None or stream not in self.stats.streams:
                self.stats.quarantined_other += count
            else:
                self.stats.streams[stream].quarantined += count
        self.stats.drift_events = self.events.drift_events
        self._refresh_statistics(sum(landed.values()))
        self._pending.clear()
        self._pending_count = 0
        if state is not None:
            self.stats.state = state

    def _refresh_statistics(self, landed: int) -> None:
        """Keep PostgreSQL's statistics abreast of a big load. With a table it believes empty,
        the planner filters the key list over a whole stream instead of probing the index
        (measured: ~20 ms a look-up at 100k rows, ~1 ms after ANALYZE); autovacuum catches
        up only later."""
        self._unanalyzed += landed
        if self.engine.dialect.name != "postgresql" or self._unanalyzed < ANALYZE_EVERY:
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE raw_record")
        self._unanalyzed = 0

    def _land(self, conn: Connection, stream: str, batch: list[tuple[str, str, dict, str, int]]) -> int:
        latest: dict[str, tuple[str, dict]] = {}
        origins: dict[str, tuple[str, int]] = {}
        for key, digest, record, origin, seq in batch:  # the last version within a batch wins
            latest[key] = (digest, record)
            origins[key] = (origin, seq)
        self.book.supersede(conn, stream, origins)
        keys = list(latest)
        current: dict[str, str | None] = {}
        where = current_versions(self.source, stream)
        lookup = select(raw_record.c.record_key, raw_record.c.record_hash, raw_record.c.deleted_at).where(where)
        for i in range(0, len(keys), _KEY_CHUNK):
            for key, digest, deleted_at in conn.execute(lookup, {"keys": keys[i : i + _KEY_CHUNK]}):
                current[key] = None if deleted_at is not None else digest  # a deleted one comes back
        changed = [k for k in keys if current.get(k) != latest[k][0]]
        if not changed:
            return 0
        superseded = [k for k in changed if k in current]
        retire = update(raw_record).where(where).values(is_current=False)
        for i in range(0, len(superseded), _KEY_CHUNK):
            conn.execute(retire, {"keys": superseded[i : i + _KEY_CHUNK]})
        now = datetime.now(UTC)
        conn.execute(
            insert(raw_record),
            [
                {
                    "source": self.source,
                    "stream": stream,
                    "record_key": key,
                    "record_hash": latest[key][0],
                    "data": orjson.dumps(latest[key][1]).decode(),
                    "is_current": True,
                    "sync_run_id": self.sync_run_id,
                    "landed_at": now,
                }
                for key in changed
            ],
        )
        return len(changed)

    def finish_pass(self) -> dict[str, int]:
        """The tap exited successfully: its full-table streams were read whole, so current
        records of those streams whose key did not come back are marked deleted. Returns the
        count per stream. Call it only after a successful tap run (never after a failure).

        A stream is skipped (with a warning) when some record of the pass had no usable key
        (it might be any of them). Its deletions are withheld (nothing marked, the count kept in
        ``stats.streams[stream].withheld``) when the pass returned nothing at all for a stream
        that has live records, or left out more than ``max_drop`` of them: such an answer is
        more often a wrong account set or an outage than a source that deleted that much.
        """
        self.flush()
        result: dict[str, int] = {}
        for stream, spec in self._streams.items():
            if spec.keys is None or spec.validator is None:
                continue
            if spec.unkeyed:
                log.warning("%s/%s: %d records without a usable key in this pass; deletions not "
                            "inferred", self.source, stream, spec.unkeyed)
                continue
            outcome = mark_unseen_deleted(self.engine, self.source, stream, spec.keys, self.max_drop)
            stats = self.stats.streams[stream]
            stats.deleted += outcome.deleted
            stats.withheld, stats.live = outcome.withheld, outcome.live
            result[stream] = outcome.deleted
        return result

    def _write_state(self, conn: Connection, state: dict) -> None:
        conn.execute(delete(sync_state).where(sync_state.c.source == self.source))
        conn.execute(
            insert(sync_state),
            {"source": self.source, "state": orjson.dumps(state).decode(), "updated_at": datetime.now(UTC)},
        )


def load_state(engine: Engine, source: str) -> dict | None:
    """The last committed Singer state of ``source``, or None before its first sync."""
    with engine.connect() as conn:
        value = conn.execute(select(sync_state.c.state).where(sync_state.c.source == source)).scalar()
    return orjson.loads(value) if value else None
