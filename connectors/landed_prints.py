"""What the hub holds of a source's full-table streams, offered to its tap so it skips unchanged records.

The hub's side of :mod:`connectors.kit.unchanged` (read that first). :func:`landed_offer` reads,
when a sync starts, the current live raw records of the source's full-table streams - per record
the 64-bit hash of its key and the first 64 bits of its content hash - and returns the tap's
config value plus, for the loader, each stream's key hash -> key, so that the keys the tap's pass
saw but did not emit (its end-of-pass report) count as seen for deletions
(:meth:`connectors.landing.SingerLoader.expect_unchanged`).

A stream is offered only where skipping lands exactly what emitting would:

- the source's previous run completed (``succeeded`` or ``partial``) and read the stream
  (its ``raw_stream`` row is from that run): after a failed or interrupted run, everything is
  emitted once;
- that run recorded no schema drift for the stream: a drifted record records its drift events on
  every run it comes in, and a frozen one lands another content than it came with;
- keys with an open quarantine entry are left out: a valid version of the key closes the entry
  when it comes, changed or not.

A record the loader rejected never landed under its content hash, so it is never skipped. The tap
checks the SCHEMA: a stream whose schema or key changed since it was stored emits everything.
Two keys of one stream with one 64-bit key hash (odds ~n^2 / 2^65) are both left out.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import Engine, and_, select

from connectors.kit.unchanged import content_print, key_hash, pack_offer, schema_print, unpack
from hub_core.schema import raw_record, raw_reject, raw_stream, sync_run
from hub_core.schema_quarantine import schema_drift

log = logging.getLogger(__name__)

COMPLETE = ("succeeded", "partial")


def _full_table(bookmarks: str | None) -> bool:
    try:
        return not orjson.loads(bookmarks or "[]")
    except orjson.JSONDecodeError:
        return False


def landed_offer(engine: Engine, source: str, run_id: int) -> tuple[dict, dict[str, dict[int, str]]]:
    """``(config value, {stream: {key hash: key}})`` for the sync ``run_id`` of ``source`` (module
    docstring); both empty when nothing may be offered."""
    with engine.connect() as conn:
        last = conn.execute(
            select(sync_run.c.id, sync_run.c.status, sync_run.c.started_at)
            .where(sync_run.c.source == source, sync_run.c.id < run_id)
            .order_by(sync_run.c.id.desc()).limit(1)
        ).first()
        if last is None or last.status not in COMPLETE:
            return {}, {}
        streams = {
            row.stream: schema_print(orjson.loads(row.json_schema), orjson.loads(row.key_properties))
            for row in conn.execute(select(raw_stream).where(raw_stream.c.source == source))
            if _full_table(row.bookmark_properties) and _same_or_later(row.updated_at, last.started_at)
        }
        drifted = set(conn.execute(select(schema_drift.c.stream).distinct().where(
            schema_drift.c.source == source, schema_drift.c.sync_run_id == last.id)).scalars())
        held: dict[str, set[str]] = defaultdict(set)
        for stream, key in conn.execute(select(raw_reject.c.stream, raw_reject.c.record_key).where(
                raw_reject.c.source == source, raw_reject.c.status == "open", raw_reject.c.record_key.is_not(None))):
            held[stream].add(key)
        offer: dict = {}
        keys: dict[str, dict[int, str]] = {}
        r = raw_record.c
        for stream, schema in sorted(streams.items()):
            if stream in drifted or schema is None:
                continue
            rows = conn.execute(select(r.record_key, r.record_hash).where(and_(
                r.source == source, r.stream == stream, r.is_current, r.deleted_at.is_(None)))).all()
            stream_keys, prints = _prints(rows, held.get(stream, set()))
            offer[stream] = pack_offer(schema, prints)
            keys[stream] = stream_keys
    if offer:
        log.info("%s: offering the tap %s landed fingerprints (%s)", source,
                 sum(len(k) for k in keys.values()), ", ".join(offer))
    return offer, keys


def _prints(rows, held: set[str]) -> tuple[dict[int, str], dict[int, int]]:
    """Key hash -> key and key hash -> content print of ``rows`` (key, record hash), without the
    ``held`` keys and without any key hash two keys share."""
    hashed = [(key_hash(key), key, digest) for key, digest in rows if key not in held]
    shared = {h for h, n in Counter(h for h, _, _ in hashed).items() if n > 1}
    keys = {h: key for h, key, _ in hashed if h not in shared}
    prints = {h: content_print(digest) for h, _, digest in hashed if h not in shared}
    return keys, prints


def _same_or_later(when, since) -> bool:
    """``when >= since``, whichever of the two lacks a time zone (SQLite gives naive times)."""
    if when is None or since is None:
        return False
    if (when.tzinfo is None) != (since.tzinfo is None):
        when, since = when.replace(tzinfo=None), since.replace(tzinfo=None)
    return when >= since


class UnchangedReports:
    """The loader's side: the keys offered per stream and the streams' end-of-pass reports."""

    def __init__(self, offered: dict[str, dict[int, str]]) -> None:
        self.offered = offered  # stream -> key hash -> key
        self.unseen: dict[str, set[int]] = {}  # stream -> offered key hashes its pass did not list
        self.repeated: dict[str, list[str]] = {}  # stream -> offered keys skipped, then listed again

    def __bool__(self) -> bool:
        return bool(self.offered)

    def take(self, record: Any) -> tuple[str, int] | None:
        """Note one report; ``(stream, unchanged records)``, or None when it is malformed or for
        a stream not offered."""
        if not isinstance(record, dict):
            return None
        stream, count, unseen = record.get("stream"), record.get("unchanged"), record.get("unseen")
        if stream not in self.offered or not isinstance(count, int) or not isinstance(unseen, str):
            return None
        repeated = record.get("repeated", "")  # (absent from a report of an older tap)
        if not isinstance(repeated, str):
            return None
        try:
            self.unseen[stream] = set(unpack(unseen))
            keys = self.offered[stream]
            self.repeated[stream] = [keys[kh] for kh in unpack(repeated) if kh in keys]
        except ValueError:
            return None
        return stream, count

    def listed(self, stream: str) -> Iterator[str]:
        """The offered keys of ``stream`` its reported pass listed (none without a report: the tap
        then emitted every record it listed)."""
        unseen = self.unseen.get(stream)
        if unseen is None:
            return
        for kh, key in self.offered.get(stream, {}).items():
            if kh not in unseen:
                yield key
