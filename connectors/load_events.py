"""What one load noticed besides records: schema drift events and duplicate keys.

Counted in memory as records go by and written with each flush of the loader (in its
transaction), so a run that fails half-way still leaves what it saw. One ``schema_drift`` row per
distinct event of a run (its ``records`` count grows); one ``sync_duplicate_key`` row per key
that came more than once (its ``occurrences`` grow), at most :data:`MAX_DUPLICATE_ROWS` keys per
stream and run - beyond that the keys are only counted (``sync_run.duplicate_keys``).

Duplicate keys are found by the run's key hashes per stream (Python's 64-bit string hash): the
keys since the last flush in a dict (a repeat among them is known at once), the older ones settled
in :class:`connectors.key_hashes.KeyHashes` (~8 bytes a key) and checked in bulk at each flush,
which then counts them (:meth:`LoadEvents.settle`). A Python set of every hash cost ~60 bytes a
key: the part of a sync that grew with the data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, bindparam, insert, update

from connectors.key_hashes import BUFFER, KeyHashes
from hub_core.schema_quarantine import schema_drift, sync_duplicate_key

MAX_DUPLICATE_ROWS = 1000


class LoadEvents:
    """Drift events and duplicate keys of one run (see the module docstring)."""

    def __init__(self, source: str, sync_run_id: int):
        self.source = source
        self.sync_run_id = sync_run_id
        self._recent: dict[str, dict[int, str]] = defaultdict(dict)  # hash -> key, since the last settle
        self._settled: dict[str, KeyHashes] = defaultdict(KeyHashes)
        #: repeats found when settling, per stream, not yet taken by the loader's counts
        self._late: dict[str, int] = defaultdict(int)
        #: (stream, field, kind, declared, observed, action) -> [records, example key, row id]
        self.drift: dict[tuple, list] = {}
        self._drift_dirty: set[tuple] = set()
        #: (stream, key) -> [occurrences, written?]
        self.duplicates: dict[tuple[str, str], list] = {}
        self._dup_dirty: set[tuple[str, str]] = set()
        self._dup_rows: dict[str, int] = defaultdict(int)

    def seen_key(self, stream: str, key: str) -> bool:
        """Note ``key`` in ``stream``; True when it is a repeat of a key since the last flush.
        A repeat of an older key is found by :meth:`settle` (at the loader's next flush)."""
        recent = self._recent[stream]
        h = hash(key)
        if h in recent:
            self._repeat(stream, key)
            return True
        recent[h] = key
        if len(recent) >= BUFFER:
            self._settle(stream)
        return False

    def settle(self) -> dict[str, int]:
        """Check the keys since the last settle against the run's older ones (in bulk); returns,
        per stream, how many repeats that found since the last call (the loader counts them)."""
        for stream in [s for s, recent in self._recent.items() if recent and self._settled[s].settled]:
            self._settle(stream)  # (a stream that never filled the buffer: its dict holds every key)
        late, self._late = dict(self._late), defaultdict(int)
        return late

    def _settle(self, stream: str) -> None:
        recent, settled = self._recent[stream], self._settled[stream]
        for h in settled.merge(recent):
            self._repeat(stream, recent[h])
            self._late[stream] += 1
        recent.clear()

    def _repeat(self, stream: str, key: str) -> None:
        entry = self.duplicates.get((stream, key))
        if entry is None:
            if self._dup_rows[stream] >= MAX_DUPLICATE_ROWS:
                return  # counted by the caller, not listed
            self._dup_rows[stream] += 1
            entry = self.duplicates[(stream, key)] = [1, False]
        entry[0] += 1
        self._dup_dirty.add((stream, key))

    def drifted(self, stream: str, field: str, kind: str, declared: str | None, observed: str, action: str,
                key: str | None) -> None:
        """Count one record showing one drift event."""
        event = (stream, field, kind, declared, observed, action)
        entry = self.drift.get(event)
        if entry is None:
            entry = self.drift[event] = [0, key, None]
        entry[0] += 1
        self._drift_dirty.add(event)

    @property
    def dirty(self) -> bool:
        """Whether something is waiting to be written."""
        return bool(self._drift_dirty or self._dup_dirty)

    @property
    def drift_events(self) -> int:
        """Distinct drift events of the run so far."""
        return len(self.drift)

    def write(self, conn: Connection) -> None:
        """Store what changed since the last write."""
        now = datetime.now(UTC)
        d = schema_drift.c
        for event in sorted(self._drift_dirty, key=str):
            entry = self.drift[event]
            stream, field, kind, declared, observed, action = event
            if entry[2] is None:
                entry[2] = conn.execute(insert(schema_drift).returning(d.id), {
                    "sync_run_id": self.sync_run_id, "source": self.source, "stream": stream, "field": field[:2000],
                    "kind": kind, "declared": declared, "observed": observed, "action": action,
                    "records": entry[0], "example_key": entry[1], "detected_at": now}).scalar_one()
            else:
                conn.execute(update(schema_drift).where(d.id == entry[2]).values(records=entry[0]))
        self._drift_dirty.clear()
        k = sync_duplicate_key.c
        fresh, grown = [], []
        for stream, key in self._dup_dirty:
            entry = self.duplicates[(stream, key)]
            (grown if entry[1] else fresh).append({"b_stream": stream, "b_key": key, "b_n": entry[0]})
            entry[1] = True
        if fresh:
            conn.execute(insert(sync_duplicate_key), [
                {"sync_run_id": self.sync_run_id, "source": self.source, "stream": r["b_stream"],
                 "record_key": r["b_key"], "occurrences": r["b_n"]} for r in fresh])
        if grown:
            conn.execute(update(sync_duplicate_key).where(and_(
                k.sync_run_id == self.sync_run_id, k.stream == bindparam("b_stream"),
                k.record_key == bindparam("b_key"))).values(occurrences=bindparam("b_n")), grown)
        self._dup_dirty.clear()
