"""Sync runs that tell the truth: who runs a sync, whether it is still alive, one at a time.

* Each ``sync_run`` row records the process (``pid``/``host``) and a ``heartbeat_at`` that a
  background thread refreshes (with the record counts so far) while the sync runs.
* :func:`recover_interrupted` — called before every sync and by the CLI — marks ``running``
  rows whose process is gone (same host, pid dead) or whose heartbeat went stale as
  ``interrupted``, and frees their locks.
* :class:`SourceLock` is a row in ``source_lock`` per source: a second sync of the same source
  is refused with :class:`SourceBusy`; a lock left by a killed process is taken over. Plain
  rows work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Self

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hub_core.schema import source_lock, sync_run

log = logging.getLogger(__name__)

HEARTBEAT_S = float(os.environ.get("HUB_HEARTBEAT_SECONDS", "10"))
# A heartbeat older than this means the sync is dead even if we cannot see its process
# (another host, a reused pid). Several heartbeats, so a busy database does not trip it.
STALE_AFTER_S = float(os.environ.get("HUB_STALE_AFTER_SECONDS", "120"))


class SourceBusy(RuntimeError):
    """Another live process is syncing this source."""


def now() -> datetime:
    """The current time in UTC (what every liveness column stores)."""
    return datetime.now(UTC)


def this_host() -> str:
    """This machine's name as recorded in ``host`` columns."""
    return socket.gethostname()[:255]


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; the hub writes UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this host."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


# On this host the process table is the truth; the heartbeat only guards against a reused pid,
# so it must be far staler before a live-looking pid is disbelieved (a busy SQLite file can
# delay beats, and taking over the lock of a live sync would let two syncs collide).
SAME_HOST_STALE_FACTOR = 10


def holder_gone(pid: int | None, host: str | None, heartbeat_at: datetime | None,
                stale_after_s: float = STALE_AFTER_S) -> bool:
    """A run/lock holder is gone when its process is dead on this host, or its heartbeat is
    stale (another host: ``stale_after_s``; this host: ten times that, against pid reuse)."""
    here = host == this_host()
    if here and not pid_alive(pid):
        return True
    beat = _aware(heartbeat_at)
    limit = stale_after_s * (SAME_HOST_STALE_FACTOR if here else 1)
    return beat is None or now() - beat > timedelta(seconds=limit)


def recover_interrupted(engine: Engine, stale_after_s: float = STALE_AFTER_S) -> list[int]:
    """Mark ``running`` syncs whose process is gone as ``interrupted``; free their locks.
    Returns the ids of the runs marked."""
    with engine.begin() as conn:
        running = conn.execute(
            select(sync_run.c.id, sync_run.c.source, sync_run.c.pid, sync_run.c.host, sync_run.c.heartbeat_at,
                   sync_run.c.started_at).where(sync_run.c.status == "running")
        ).all()
        locks = conn.execute(select(source_lock)).all()
    marked = []
    for row in running:
        beat = row.heartbeat_at or row.started_at
        if not holder_gone(row.pid, row.host, beat, stale_after_s):
            continue
        who = f"process {row.pid} on {row.host}" if row.pid else "an earlier hub"
        with engine.begin() as conn:
            done = conn.execute(
                update(sync_run).where(and_(sync_run.c.id == row.id, sync_run.c.status == "running")).values(
                    status="interrupted", finished_at=beat,
                    error=f"interrupted — {who} stopped before finishing (killed or crashed); "
                          "the next sync resumes from the last saved state",
                )
            ).rowcount
        if done:
            marked.append(row.id)
            log.warning("sync run %s of %s marked interrupted (%s is gone)", row.id, row.source, who)
    for lock in locks:
        if holder_gone(lock.pid, lock.host, lock.heartbeat_at, stale_after_s):
            _drop_lock_if_unchanged(engine, lock)
    return marked


def _drop_lock_if_unchanged(engine: Engine, lock) -> None:
    # Conditional on the row we judged: a lock renewed or retaken meanwhile stays.
    with engine.begin() as conn:
        conn.execute(delete(source_lock).where(and_(
            source_lock.c.source == lock.source, source_lock.c.pid == lock.pid, source_lock.c.host == lock.host,
            source_lock.c.acquired_at == lock.acquired_at)))


class SourceLock:
    """The per-source lock row of one sync (see module docstring)."""

    def __init__(self, engine: Engine, source: str, stale_after_s: float = STALE_AFTER_S):
        self.engine = engine
        self.source = source
        self.stale_after_s = stale_after_s
        self.pid = os.getpid()
        self.host = this_host()
        self.acquired_at: datetime | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`SourceBusy` naming the holder."""
        for _ in range(3):
            moment = now()
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(source_lock).values(
                        source=self.source, pid=self.pid, host=self.host, acquired_at=moment, heartbeat_at=moment))
                self.acquired_at = moment
                return
            except IntegrityError:
                pass
            with self.engine.begin() as conn:
                holder = conn.execute(select(source_lock).where(source_lock.c.source == self.source)).first()
            if holder is None:
                continue  # released meanwhile: try again
            if holder_gone(holder.pid, holder.host, holder.heartbeat_at, self.stale_after_s):
                log.warning("taking over the lock of %s left by process %s on %s", self.source, holder.pid, holder.host)
                _drop_lock_if_unchanged(self.engine, holder)
                continue
            since = _aware(holder.acquired_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
            run = f" (run {holder.sync_run_id})" if holder.sync_run_id else ""
            raise SourceBusy(f"a sync is already running{run} — process {holder.pid} on {holder.host} "
                             f"since {since}; wait for it to finish (hub runs) or stop that process")
        raise SourceBusy("could not take the sync lock (it keeps changing hands) — try again")

    def _mine(self):
        return and_(source_lock.c.source == self.source, source_lock.c.pid == self.pid,
                    source_lock.c.host == self.host)

    def attach(self, run_id: int) -> None:
        """Record which run holds the lock (shown when a second sync is refused)."""
        with self.engine.begin() as conn:
            conn.execute(update(source_lock).where(self._mine()).values(sync_run_id=run_id))

    def release(self) -> None:
        """Give the lock up (only our own row)."""
        with self.engine.begin() as conn:
            conn.execute(delete(source_lock).where(self._mine()))


class Heartbeat:
    """A daemon thread that shows a sync is alive: refreshes the run's and the lock's
    ``heartbeat_at`` and writes the record counts so far (``counts()``)."""

    def __init__(self, engine: Engine, run_id: int, lock: SourceLock, counts: Callable[[], dict],
                 every_s: float = HEARTBEAT_S):
        self.engine, self.run_id, self.lock, self.counts, self.every_s = engine, run_id, lock, counts, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{lock.source}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def beat(self) -> None:
        """One heartbeat: refresh both timestamps and the counts so far."""
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(update(sync_run).where(and_(sync_run.c.id == self.run_id, sync_run.c.status == "running"))
                         .values(heartbeat_at=moment, **self.counts()))
            conn.execute(update(source_lock).where(self.lock._mine()).values(heartbeat_at=moment))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except OperationalError as exc:  # a busy SQLite file: the next beat will do
                log.info("heartbeat of run %s skipped: %s", self.run_id, type(exc).__name__)
            except Exception:
                log.exception("heartbeat of run %s failed", self.run_id)


def start_run(engine: Engine, source: str, full_refresh: bool) -> int:
    """Insert the ``running`` row of a new sync and return its id."""
    moment = now()
    with engine.begin() as conn:
        return conn.execute(
            insert(sync_run).returning(sync_run.c.id),
            {"source": source, "started_at": moment, "status": "running", "records_seen": 0, "records_landed": 0,
             "records_rejected": 0, "records_quarantined": 0, "duplicate_keys": 0, "drift_events": 0,
             "pid": os.getpid(), "host": this_host(), "heartbeat_at": moment,
             "full_refresh": full_refresh},
        ).scalar_one()


__all__ = ["Heartbeat", "SourceBusy", "SourceLock", "holder_gone", "pid_alive", "recover_interrupted", "start_run"]
