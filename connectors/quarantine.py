"""The landing quarantine: records set aside, once per distinct payload (table ``raw_reject``).

A record that fails validation, drifts under a ``quarantine``/``freeze`` policy
(connectors/drift.py), or that a tap set aside itself, is kept with its reason, the tap's last
STATE before it (the cursor), and the connector's name and version. The row is keyed by
(source, fingerprint): the fingerprint hashes the stream and the payload's content (Singer
``_sdc_*`` metadata does not count), so the same bad payload extracted again on every run is one
row whose ``last_seen_at``/``seen_count`` move - not one more row a run.

An entry is ``open`` until one of:

* ``replayed`` - ``hub quarantine replay`` landed it after a fix (connectors/replay.py);
* ``superseded`` - a later version of the same record key landed (the source fixed it).

The same payload set aside again reopens its row. :class:`QuarantineBook` is the loader's side
(batched, set-based writes inside the loader's transaction); :func:`list_entries` and
:func:`get_entry` serve ``hub quarantine list|show``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from hub_core.schema import raw_reject

_CHUNK = 500  # bound parameters per statement, under SQLite's limit
MAX_CURSOR = 4000  # characters of the STATE kept with an entry
KINDS = ("invalid", "drift", "tap", "unparsable")
STATUSES = ("open", "replayed", "superseded")


def fingerprint(stream: str | None, content_hash: str) -> str:
    """The identity of a payload in the quarantine: its stream and content hash."""
    return hashlib.sha256(f"{stream or ''}\x00{content_hash}".encode()).hexdigest()


def text_hash(text: str) -> str:
    """Content hash of a payload that is not a JSON object (a line that was not Singer...)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def hub_version() -> str | None:
    """The installed hub's version (what the built-in taps ship with)."""
    try:
        return importlib_metadata.version("customer360-hub")
    except importlib_metadata.PackageNotFoundError:
        return None


def connector_identity(source: Any) -> tuple[str | None, str | None]:
    """(connector name, version) of a configured source, as far as the hub can tell: a built-in
    tap carries the hub's version, a plugin its pip requirement, a bare command none."""
    from connectors.sources import BUILTIN_TAPS

    if source.connector:
        return BUILTIN_TAPS[source.connector], hub_version()
    if source.plugin:
        try:
            from connectors.plugins import get_plugin

            return source.plugin, get_plugin(source.plugin).pip_url[:100]
        except Exception:
            return source.plugin, None
    if source.manifest:
        return f"manifest:{str(source.manifest).rsplit('/', 1)[-1]}"[:200], hub_version()
    return (source.command or ["?"])[0].rsplit("/", 1)[-1][:200], None


class QuarantineBook:
    """The quarantine entries of one load, merged by fingerprint and written with each flush."""

    def __init__(self, source: str, sync_run_id: int, connector: str | None, connector_version: str | None):
        self.source = source
        self.sync_run_id = sync_run_id
        self.connector = connector[:200] if connector else None
        self.connector_version = connector_version[:100] if connector_version else None
        self.pending: dict[str, dict] = {}
        #: Open entries with a record key, per stream: key -> [(fingerprint, seq)]; loaded once.
        self._open: dict[str, dict[str, list[tuple[str, int]]]] = {}

    def add(self, *, stream: str | None, key: str | None, reason: str, kind: str, payload: str,
            content_hash: str, cursor: str | None, seq: int) -> None:
        """One set-aside record (kept until the next :meth:`write`)."""
        fp = fingerprint(stream, content_hash)
        row = self.pending.get(fp)
        if row is not None:  # the same payload twice in one batch: one entry, counted twice
            row["n"] += 1
            row.update(reason=reason, kind=kind, cursor=cursor, seq=seq)
            return
        self.pending[fp] = {"fingerprint": fp, "stream": stream, "record_key": key, "reason": reason,
                            "kind": kind, "data": payload, "cursor": cursor, "seq": seq, "n": 1}

    def _open_keys(self, conn: Connection, stream: str) -> dict[str, list[tuple[str, int]]]:
        if stream not in self._open:
            r = raw_reject.c
            rows = conn.execute(select(r.record_key, r.fingerprint).where(
                r.source == self.source, r.stream == stream, r.status == "open", r.record_key.is_not(None),
                r.fingerprint.is_not(None)))
            found: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for key, fp in rows:
                found[key].append((fp, -1))  # from an earlier run: older than anything of this one
            self._open[stream] = found
        return self._open[stream]

    def write(self, conn: Connection) -> dict[str | None, int]:
        """Insert new entries, bump (and reopen) known ones; returns new entries per stream."""
        if not self.pending:
            return {}
        rows = list(self.pending.values())
        self.pending = {}
        for stream in {row["stream"] for row in rows if row["stream"] and row["record_key"]}:
            self._open_keys(conn, stream)  # before this batch's entries join it, with their seq
        r = raw_reject.c
        known: dict[str, int] = {}
        for i in range(0, len(rows), _CHUNK):
            chunk = [row["fingerprint"] for row in rows[i:i + _CHUNK]]
            known.update(conn.execute(select(r.fingerprint, r.id).where(
                r.source == self.source, r.fingerprint.in_(chunk))).all())
        now = datetime.now(UTC)
        fresh = [row for row in rows if row["fingerprint"] not in known]
        if fresh:
            conn.execute(insert(raw_reject), [
                {"source": self.source, "stream": row["stream"], "record_key": row["record_key"],
                 "reason": row["reason"], "data": row["data"], "sync_run_id": self.sync_run_id,
                 "rejected_at": now, "kind": row["kind"], "fingerprint": row["fingerprint"],
                 "cursor": row["cursor"], "connector": self.connector,
                 "connector_version": self.connector_version, "last_seen_at": now,
                 "last_sync_run_id": self.sync_run_id, "seen_count": row["n"], "status": "open"}
                for row in fresh])
        again = [row for row in rows if row["fingerprint"] in known]
        if again:
            bump = (update(raw_reject).where(r.id == bindparam("b_id")).values(
                seen_count=func.coalesce(r.seen_count, 1) + bindparam("b_n"), last_seen_at=now,
                last_sync_run_id=self.sync_run_id, reason=bindparam("b_reason"), kind=bindparam("b_kind"),
                cursor=bindparam("b_cursor"), connector=self.connector, connector_version=self.connector_version,
                status="open", resolved_at=None))
            conn.execute(bump, [{"b_id": known[row["fingerprint"]], "b_n": row["n"], "b_reason": row["reason"],
                                 "b_kind": row["kind"], "b_cursor": row["cursor"]} for row in again])
        for row in rows:
            if row["stream"] and row["record_key"]:
                entries = self._open[row["stream"]][row["record_key"]]
                entries[:] = [e for e in entries if e[0] != row["fingerprint"]] + [(row["fingerprint"], row["seq"])]
        new: dict[str | None, int] = defaultdict(int)
        for row in fresh:
            new[row["stream"]] += 1
        return new

    def supersede(self, conn: Connection, stream: str, landed: dict[str, tuple[str, int]]) -> int:
        """Close the open entries of keys a later, different version of which just landed
        (``landed``: key -> (content hash of the payload it came from, seq)). Returns how many."""
        open_keys = self._open_keys(conn, stream)
        if not open_keys:
            return 0
        closed = []
        for key in open_keys.keys() & landed.keys():
            digest, seq = landed[key]
            mine = fingerprint(stream, digest)
            keep = [(fp, s) for fp, s in open_keys[key] if fp == mine or s > seq]
            closed += [fp for fp, s in open_keys[key] if (fp, s) not in keep]
            open_keys[key] = keep
        r = raw_reject.c
        done = 0
        for i in range(0, len(closed), _CHUNK):
            done += conn.execute(update(raw_reject).where(
                r.source == self.source, r.fingerprint.in_(closed[i:i + _CHUNK]), r.status == "open",
            ).values(status="superseded", resolved_at=datetime.now(UTC))).rowcount
        return done


# -- reading (hub quarantine list / show) ---------------------------------------------------
def _filters(source: str | None, stream: str | None, reason: str | None, status: str | None,
             kind: str | None) -> list:
    r = raw_reject.c
    where = []
    if source:
        where.append(r.source == source)
    if stream:
        where.append(r.stream == stream)
    if reason:
        where.append(func.lower(r.reason).contains(reason.lower(), autoescape=True))
    if status == "open":  # rows from before the quarantine had no status: they are open
        where.append(func.coalesce(r.status, "open") == "open")
    elif status:
        where.append(r.status == status)
    if kind:
        where.append(r.kind == kind)
    return where


def list_entries(engine: Engine, *, source: str | None = None, stream: str | None = None,
                 reason: str | None = None, status: str | None = "open", kind: str | None = None,
                 limit: int = 50) -> tuple[list, int]:
    """The newest-seen entries matching the filters (without payloads) and how many match."""
    r = raw_reject.c
    where = _filters(source, stream, reason, status, kind)
    cols = [r.id, r.source, r.stream, r.record_key, r.kind, r.reason, r.status, r.seen_count,
            r.rejected_at, r.last_seen_at, r.connector, r.connector_version]
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(raw_reject).where(*where)).scalar_one()
        rows = conn.execute(select(*cols).where(*where).order_by(
            func.coalesce(r.last_seen_at, r.rejected_at).desc(), r.id.desc()).limit(limit)).all()
    return rows, total


def get_entry(engine: Engine, entry_id: int):
    """One entry with its payload, or None."""
    with engine.connect() as conn:
        return conn.execute(select(raw_reject).where(raw_reject.c.id == entry_id)).first()


def open_counts(conn: Connection) -> dict[str, int]:
    """Open entries per source (for reports)."""
    r = raw_reject.c
    return dict(conn.execute(select(r.source, func.count()).where(
        func.coalesce(r.status, "open") == "open").group_by(r.source)).all())

