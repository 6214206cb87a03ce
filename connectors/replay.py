"""``hub quarantine replay``: land quarantined records that pass now, after a fix.

A fix is a new SCHEMA from the tap (a connector upgrade: ``raw_stream`` holds the latest) or a
changed drift policy in connectors.yaml. Replay takes the source's sync lock, re-judges each
open entry's payload with the same loader code a sync uses (:meth:`SingerLoader.admit`) and
lands those that pass through the same path (content-hash versioning, same transaction rules),
under the sync run that brought the payload. Those landed are marked ``replayed``; the others
stay ``open`` with their current reason.

Not replayed: entries a tap set aside itself and lines that were not Singer (the payload is not
the record: the tap fetches it again on its next run), entries without a usable key, and an entry
whose record has a newer version landed since (that one is marked ``superseded``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from sqlalchemy import Engine, func, select, update

from connectors.drift import DriftConfig
from connectors.landing import SingerLoader, record_hash, record_key, stream_spec
from connectors.runs import SourceLock
from hub_core.schema import raw_record, raw_reject, raw_stream

REPLAYABLE = ("invalid", "drift")


@dataclass
class ReplayResult:
    """What a replay did, by entry id."""

    landed: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    still_failing: dict[int, str] = field(default_factory=dict)  # id -> current reason
    skipped: dict[int, str] = field(default_factory=dict)  # id -> why it cannot be replayed


def _spec(engine: Engine, source: str, stream: str):
    with engine.connect() as conn:
        row = conn.execute(select(raw_stream.c.key_properties, raw_stream.c.json_schema).where(
            raw_stream.c.source == source, raw_stream.c.stream == stream)).first()
    if row is None:
        return None
    return stream_spec(list(orjson.loads(row.key_properties)), orjson.loads(row.json_schema))


def replay(engine: Engine, source: str, drift: DriftConfig | None = None, *, stream: str | None = None,
           reason: str | None = None, ids: list[int] | None = None) -> ReplayResult:
    """Replay the open entries of ``source`` (optionally of one stream, whose reason contains
    ``reason``, or only ``ids``); see the module docstring."""
    r = raw_reject.c
    where = [r.source == source, func.coalesce(r.status, "open") == "open"]
    if stream:
        where.append(r.stream == stream)
    if reason:
        where.append(func.lower(r.reason).contains(reason.lower(), autoescape=True))
    if ids:
        where.append(r.id.in_(ids))
    lock = SourceLock(engine, source)
    lock.acquire()  # no sync of the source meanwhile
    try:
        with engine.connect() as conn:
            entries = conn.execute(select(r.id, r.stream, r.record_key, r.kind, r.data, r.sync_run_id,
                                          r.last_sync_run_id).where(*where).order_by(r.id)).all()
        result = ReplayResult()
        by_run = defaultdict(list)
        for entry in entries:
            if (entry.kind or "invalid") not in REPLAYABLE or not entry.stream:
                result.skipped[entry.id] = "set aside by the tap or not a record: the tap fetches it again next run"
                continue
            by_run[entry.last_sync_run_id or entry.sync_run_id].append(entry)
        for run_id, group in by_run.items():
            _replay_run(engine, source, drift, run_id, group, result)
        return result
    finally:
        lock.release()


def _replay_run(engine: Engine, source: str, drift: DriftConfig | None, run_id: int, entries: list,
                result: ReplayResult) -> None:
    loader = SingerLoader(engine, source, run_id, drift=drift)
    specs: dict = {}
    staged: list[int] = []
    for entry in entries:
        if entry.stream not in specs:
            specs[entry.stream] = _spec(engine, source, entry.stream)
        spec = specs[entry.stream]
        try:
            record = orjson.loads(entry.data)
        except orjson.JSONDecodeError:
            record = None
        if spec is None or not isinstance(record, dict):
            result.skipped[entry.id] = "no SCHEMA known for its stream" if spec is None else "payload is not a record"
            continue
        try:
            key = record_key(record, spec.key_properties)
        except ValueError as exc:
            result.still_failing[entry.id] = str(exc)
            continue
        newer = _newer_version(engine, source, entry.stream, key, run_id, record_hash(record))
        if newer == "same":
            result.landed.append(entry.id)  # already current (landed meanwhile): nothing to do
            continue
        if newer == "newer":
            result.superseded.append(entry.id)
            continue
        outcome, landed, why, _ = loader.admit(entry.stream, spec, key, record, count=False)
        if outcome != "land":
            result.still_failing[entry.id] = why
            continue
        loader.stage(entry.stream, key, landed, record_hash(record))
        staged.append(entry.id)
    loader.flush()  # lands them (the same versioning as a sync); marks replayed entries below
    result.landed += staged
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for status, chosen in (("replayed", result.landed), ("superseded", result.superseded)):
            mine = [i for i in chosen if i in {e.id for e in entries}]
            if mine:
                conn.execute(update(raw_reject).where(raw_reject.c.id.in_(mine)).values(status=status, resolved_at=now))
        for entry_id, why in result.still_failing.items():
            if entry_id in {e.id for e in entries}:
                conn.execute(update(raw_reject).where(raw_reject.c.id == entry_id).values(reason=why[:2000]))


def _newer_version(engine: Engine, source: str, stream: str, key: str, run_id: int, digest: str) -> str | None:
    """``same`` when the payload is the current version already, ``newer`` when a version
    landed by a later run is current, else None."""
    c = raw_record.c
    with engine.connect() as conn:
        row = conn.execute(select(c.record_hash, c.sync_run_id).where(
            c.source == source, c.stream == stream, c.is_current, c.record_key == key)).first()
    if row is None:
        return None
    if row.record_hash == digest:
        return "same"
    return "newer" if row.sync_run_id > run_id else None
