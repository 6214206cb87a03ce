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

Unchanged records a tap left out: a full-table stream of our taps, offered what the hub holds
(:mod:`connectors.landed_prints`, :meth:`SingerLoader.expect_unchanged`), emits only records the
hub does not hold and ends its pass with one record of the stream :data:`UNCHANGED_STREAM`
naming the offered keys it did not list (:mod:`connectors.kit.unchanged`); the keys it listed
count as seen for deletions, and its unchanged records as seen (``StreamStats.unchanged``).

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

This module is the message loop and the batching; the parts it composes live apart so each can be
read (and tested) on its own: keying, validation and the drift judgement of one record in
:mod:`connectors.admission` (shared with the quarantine replay), the counts in
:mod:`connectors.landing_stats`, the versioned writes and the state in :mod:`connectors.raw_store`.
Their public names are re-exported here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from connectors.admission import (  # re-exported: callers import these from connectors.landing
    StreamSpec,
    admit,
    declared_properties,
    record_hash,
    record_key,
    stream_spec,
)
from connectors.drift import DriftConfig
from connectors.key_hashes import KeyHashes
from connectors.kit.unchanged import REPORT_STREAM as UNCHANGED_STREAM
from connectors.landed_prints import UnchangedReports
from connectors.landing_deletes import mark_unseen_deleted
from connectors.landing_stats import LoadStats, StreamStats
from connectors.load_events import LoadEvents
from connectors.quarantine import MAX_CURSOR, QuarantineBook, text_hash
from connectors.raw_store import (
    current_versions,
    land_versions,
    load_state,
    write_state,
)
from connectors.stream_schemas import schema_problem, store_stream
from hub_core.settings import DEFAULT_MAX_DROP

__all__ = [  # the names other code imports from here (some live in the modules split off)
    "ANALYZE_EVERY", "MAX_KEY", "MAX_STREAM", "REJECT_STREAM", "LoadStats", "SingerLoader", "StreamSpec",
    "StreamStats", "UNCHANGED_STREAM", "current_versions", "declared_properties", "load_state", "record_hash", "record_key",
    "stream_spec",
]

log = logging.getLogger(__name__)

MAX_KEY = 500  # raw_record.record_key
MAX_STREAM = 200  # raw_record.stream
ANALYZE_EVERY = 20_000  # rows landed before statistics are first refreshed on PostgreSQL
ANALYZE_GROWTH = 1.0  # then again once this share of the rows it knew has been landed since
#: Records a tap set aside itself (see the module docstring).
REJECT_STREAM = "_rejects"


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; keep them visible but escaped."""
    return value.replace("\x00", "\\u0000") if isinstance(value, str) else value


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
        #: the last STATE before the current message, and its JSON text once a reject needed it
        #: (:meth:`_cursor`: a windowed U8 stream's STATE is megabytes, rejects are rare)
        self._cursor_state: Any = None
        self._cursor_cache: str | None = None
        self.full_refresh = full_refresh  # every stream is a whole pass: diff all key sets
        self.secrets = [s for s in (secrets or []) if len(s) >= 3]
        self.source = source
        self.sync_run_id = sync_run_id
        self.batch_size = batch_size
        self.stats = LoadStats()
        self._streams: dict[str, StreamSpec] = {}
        #: per stream: (key, content hash, record to land, hash of the payload it came from, seq)
        self._pending: dict[str, list[tuple[str, str, dict, str, int]]] = defaultdict(list)
        self._pending_count = 0
        self._unanalyzed = 0
        self._unchanged = UnchangedReports({})  # what the tap was offered, and its reports

    def expect_unchanged(self, offered: dict[str, dict[int, str]]) -> None:
        """The tap was offered these streams' landed keys (key hash -> key,
        :func:`connectors.landed_prints.landed_offer`): a stream's report then names the ones its
        pass did not list, and :meth:`finish_pass` counts the others as seen."""
        self._unchanged = UnchangedReports(offered)

    def resume_from(self, state: dict | None) -> None:
        """The state the tap starts from: the cursor of records before its first STATE."""
        self._cursor_state, self._cursor_cache = state, None

    def _cursor(self) -> str | None:
        """The JSON text (its first ``MAX_CURSOR`` characters) of the last STATE before the
        current message, kept with a quarantine entry."""
        if self._cursor_cache is None and self._cursor_state is not None:
            self._cursor_cache = orjson.dumps(self._cursor_state, default=str).decode()[:MAX_CURSOR]
        return self._cursor_cache

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
            self._cursor_state, self._cursor_cache = message.get("value"), None
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
        problem = schema_problem(schema, keys)
        if problem:
            # Keep the stream known so its records are set aside with this reason.
            self._streams[stream] = StreamSpec([], None, f"the stream's SCHEMA is invalid: {problem}")
            log.error("%s/%s: invalid SCHEMA: %s", self.source, stream, problem)
            return
        if stream == REJECT_STREAM or (stream == UNCHANGED_STREAM and self._unchanged):
            return  # not a stream of the source: its records go to the quarantine / finish_pass
        bookmarks = message.get("bookmark_properties") or []
        previous = self._streams.get(stream)
        keys_seen = previous.keys if previous is not None and previous.keys is not None else KeyHashes()
        spec = self._streams[stream] = stream_spec(list(keys), schema)
        spec.keys = keys_seen if (self.full_refresh or not bookmarks) else None
        spec.unkeyed = previous.unkeyed if previous is not None else 0
        store_stream(self.engine, self.source, stream, list(keys), schema, bookmarks)

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
        if stream == UNCHANGED_STREAM and self._unchanged:
            self._on_unchanged(record)
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

    def admit(self, stream: str, spec: StreamSpec, key: str | None, record: dict, *, count: bool = True):
        """:func:`connectors.admission.admit` with this loader's drift policy; ``count`` records
        the run's drift events (False when replaying)."""
        return admit(self.drift, self.events if count else None, stream, spec, key, record)

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

    def _on_unchanged(self, record: Any) -> None:
        """A stream's end-of-pass report (:mod:`connectors.kit.unchanged`): its unchanged records
        count as seen."""
        taken = self._unchanged.take(record)
        if taken is None:
            self.stats.unparsable += 1
            self._reject(None, UNCHANGED_STREAM, "an unchanged-records report without stream, count and keys", record)
            return
        stats = self.stats.streams[taken[0]]
        stats.seen += taken[1]
        stats.unchanged += taken[1]
        for key in self._unchanged.repeated.get(taken[0], ()):  # its first record was skipped
            if self.events.seen_key(taken[0], key):
                stats.duplicates += 1

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
                      payload=_text(payload), content_hash=content_hash, cursor=self._cursor(), seq=self._seq)
        self._pending_count += 1
        log.warning("%s/%s: record set aside: %s", self.source, stream, reason)

    # -- writing ------------------------------------------------------------------------
    def flush(self, state: dict | None = None) -> None:
        """Land pending records, quarantine entries and the run's drift and duplicate-key events,
        with ``state`` in the same transaction."""
        for stream, repeats in self.events.settle().items():  # repeats of keys before the last flush
            self.stats.streams[stream].duplicates += repeats
        if not self._pending_count and state is None and not self.events.dirty:
            return
        landed: dict[str, int] = {}
        with self.engine.begin() as conn:
            fresh = self.book.write(conn)  # before landing: a later version then supersedes it
            for stream, batch in self._pending.items():
                landed[stream] = self._land(conn, stream, batch)
            self.events.write(conn)
            if state is not None:
                write_state(conn, self.source, state)
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
        up only later. Once analysed, the planner scales the row count by the table's current
        size itself, so a refresh is due again only when the table has about doubled
        (:data:`ANALYZE_GROWTH`): a few ANALYZEs per load, not one per ``ANALYZE_EVERY`` rows
        (each samples ~30k rows, ~0.5 s, while the tap waits: 20 of them landing the 10k world)."""
        self._unanalyzed += landed
        if self.engine.dialect.name != "postgresql" or self._unanalyzed < ANALYZE_EVERY:
            return
        with self.engine.begin() as conn:
            known = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'raw_record'::regclass").scalar()
            if known is not None and known > 0 and self._unanalyzed < ANALYZE_GROWTH * known:
                return
            conn.exec_driver_sql("ANALYZE raw_record")
        self._unanalyzed = 0

    def _land(self, conn: Connection, stream: str, batch: list[tuple[str, str, dict, str, int]]) -> int:
        latest: dict[str, tuple[str, dict]] = {}
        origins: dict[str, tuple[str, int]] = {}
        for key, digest, record, origin, seq in batch:  # the last version within a batch wins
            latest[key] = (digest, record)
            origins[key] = (origin, seq)
        self.book.supersede(conn, stream, origins)
        return land_versions(conn, self.source, stream, self.sync_run_id, latest)

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
            for key in self._unchanged.listed(stream):  # listed by the tap, not emitted: seen
                spec.keys.add(key)
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
