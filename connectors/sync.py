"""Sync one source: run its tap from the last committed state and land what it emits.

One sync of a source at a time (a lock row), a heartbeat while it runs, and a ``sync_run`` row
that ends ``succeeded``, ``partial`` (the tap finished but records were set aside in the
quarantine: usable, not failed), ``failed`` (with one line saying what to fix) or — if the
process dies — ``interrupted`` at the next start (see connectors/runs.py).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError

from connectors import warm_taps
from connectors.check import unreachable
from connectors.failures import address_of, explain
from connectors.kit.unchanged import CONFIG_KEY, FORCE_KEY
from connectors.landed_prints import landed_offer
from connectors.landing import LoadStats, SingerLoader, load_state
from connectors.quarantine import connector_identity
from connectors.runs import (
    Heartbeat,
    SourceBusy,
    SourceLock,
    recover_interrupted,
    start_run,
)
from connectors.singer_runner import (
    TapError,
    TapProcess,
    redact,
    secret_values,
    select_streams,
    sweep_leftover_inputs,
)
from connectors.sources import SourceConfig
from hub_core.schema import sync_run
from hub_core.settings import DEFAULT_MAX_DROP
from hub_core.warehouse import describe_db_error

log = logging.getLogger(__name__)
_MAX_ERROR = 500


@dataclass
class SyncResult:
    """How one sync ended. ``status``: succeeded | partial (records set aside, see
    ``quarantined``/``hub quarantine list``) | failed | interrupted | refused (another sync of the
    source was running, nothing was done; ``run_id`` is then None)."""

    source: str
    run_id: int | None
    status: str
    seen: int
    landed: int
    rejected: int
    error: str | None = None  # one line, without the source name; never a secret or record data
    per_stream: dict | None = None
    kind: str | None = None  # failure class from connectors/failures.yaml
    duration_s: float = 0.0
    full_refresh: bool = False
    quarantined: int = 0  # new quarantine entries (payloads not set aside before)
    duplicates: int = 0  # repeats of a key within the run (last wins)
    drift_events: int = 0  # distinct schema drift events
    #: streams whose deletions the landing withheld (a pass too small to believe): the source is stale
    withheld: dict | None = None


class SyncObserver(Protocol):
    """Follows a sync (progress displays): the start, every tap stderr line, the end."""

    def sync_started(self, source: str, run_id: int, stats: LoadStats) -> None:
        """The run row exists and the tap is about to start; ``stats`` fills as records land."""

    def tap_line(self, line: str) -> None:
        """One stderr line of the tap (metrics, waits, log lines)."""

    def sync_finished(self, result: SyncResult) -> None:
        """The sync ended (any status)."""


def _counts(stats: LoadStats) -> dict:
    return {"records_seen": stats.seen, "records_landed": stats.landed, "records_rejected": stats.rejected,
            "records_quarantined": stats.quarantined, "duplicate_keys": stats.duplicates,
            "drift_events": stats.drift_events}


def _raw_error(exc: BaseException, secrets: list[str]) -> tuple[str, str | None]:
    """(the error text to classify, a longer redacted detail for the log file). Our own faults
    are logged with their stack frames but only the short message: exception texts may quote
    record values, which stay out of logs."""
    if isinstance(exc, TapError):
        return str(exc), getattr(exc, "detail", None)
    if isinstance(exc, SQLAlchemyError):  # never the statement, its parameters or a DETAIL line
        text = redact(describe_db_error(exc), secrets)
    else:
        text = redact(f"{type(exc).__name__}: {exc}", secrets)[:_MAX_ERROR]
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return text, f"Traceback (most recent call last):\n{frames}{text}"


def _name_config_problems(source: SourceConfig, raw: str) -> str:
    """singer-sdk taps say only "Config validation failed": name the fields (never their values)
    from the tap's own settings schema (see connectors/plugins/config_check.py)."""
    if "Config validation failed" not in raw or "property" in raw:
        return raw
    try:
        from connectors.plugins.config_check import config_problems

        problems = config_problems(source)
    except Exception:
        return raw
    return f"{raw}: {'; '.join(problems)}" if problems else raw


def sync_source(engine: Engine, source: SourceConfig, *, full_refresh: bool = False,
                observer: SyncObserver | None = None, max_drop: float | None = DEFAULT_MAX_DROP,
                stop: threading.Event | None = None) -> SyncResult:
    """Run one sync (incremental from the saved state, or from scratch with ``full_refresh``).
    Failures are recorded and returned, never raised: one bad source must not stop the others.
    ``max_drop`` is the stale-source threshold the landing applies to full-table passes
    (connectors/landing_deletes.py; callers pass the rules file's ``staleness.max_drop``, None
    accepts any deletions). ``stop``: set when the user interrupted a run of several sources at
    once (Ctrl-C reaches only the main thread): this sync then ends ``interrupted`` at its tap's
    next line or end, as a one-at-a-time sync does at the signal."""
    recover_interrupted(engine)
    for leftover in sweep_leftover_inputs():
        log.warning("removed a tap config folder left by an earlier hub version: %s", leftover)
    lock = SourceLock(engine, source.name)
    try:
        lock.acquire()
    except SourceBusy as exc:
        log.error("%s: %s", source.name, exc)
        result = SyncResult(source.name, None, "refused", 0, 0, 0, error=str(exc), kind="busy",
                            full_refresh=full_refresh)
        if observer:
            observer.sync_finished(result)
        return result
    begun = time.monotonic()
    try:
        run_id = start_run(engine, source.name, full_refresh)
        lock.attach(run_id)
        return _run(engine, source, run_id, lock, full_refresh, observer, begun, max_drop, stop)
    finally:
        lock.release()


INTERRUPTED = "interrupted — stopped by the user (Ctrl-C) before finishing"
STOP_GRACE_S = 5.0  # how long a tap killed by SIGINT waits for the hub's stop flag (_stopped)


def _until(stop: threading.Event | None, lines: Iterable[bytes]) -> Iterator[bytes]:
    """``lines`` until ``stop`` is set: then KeyboardInterrupt, raised in the syncing thread at a
    line boundary (the tap is killed and the run recorded ``interrupted``, as at a Ctrl-C)."""
    for line in lines:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        yield line


def _stopped(stop: threading.Event | None, exc: Exception) -> bool:
    """Whether a sync that failed was in fact stopped by the user. A terminal's Ctrl-C reaches the
    taps and the hub together: a tap may die of it (exit -SIGINT) a moment before the hub's main
    thread raises ``stop``, so a tap killed by SIGINT waits a few seconds for the flag; without it
    (someone signalled the tap alone) the sync failed."""
    if stop is None:
        return False
    if stop.is_set():
        return True
    return getattr(exc, "exit_code", None) in (-signal.SIGINT, 128 + signal.SIGINT) and stop.wait(STOP_GRACE_S)


def _run(engine: Engine, source: SourceConfig, run_id: int, lock: SourceLock, full_refresh: bool,
         observer: SyncObserver | None, begun: float, max_drop: float | None,
         stop: threading.Event | None = None) -> SyncResult:
    secrets = secret_values(source.config)
    # A tap that limits its first run by date (start_date) sees only part of a stream on a
    # full refresh: never treat such a pass as the whole stream (it would mark the rest deleted).
    name, version = connector_identity(source)
    loader = SingerLoader(engine, source.name, run_id, secrets=secrets,
                          full_refresh=full_refresh and "start_date" not in source.config,
                          drift=source.drift, connector=name, connector_version=version, max_drop=max_drop)
    if observer:
        observer.sync_started(source.name, run_id, loader.stats)
    raw = detail = None
    status = "succeeded"

    def feed(lines: Iterable[bytes]) -> LoadStats:  # the connector's lines, cut short by ``stop``
        return loader.feed(_until(stop, lines))

    try:
        with Heartbeat(engine, run_id, lock, lambda: _counts(loader.stats)):
            if source.config_error:
                raise TapError(source.config_error)
            problem = unreachable(source.config.get("base_url"))
            if problem:
                raise TapError(problem)
            state = None if full_refresh else load_state(engine, source.name)
            loader.resume_from(state)
            if source.kind == "airbyte":  # a plugin or manifest speaking the Airbyte protocol
                from connectors.airbyte_runner import sync_airbyte

                sync_airbyte(source, state, feed, observer=observer)
            else:
                config = source.config
                if source.connector and not full_refresh and not config.get(FORCE_KEY):
                    offer, offered = landed_offer(engine, source.name, run_id)
                    if offer:  # our taps skip what the hub holds of their full-table streams
                        config = {**config, CONFIG_KEY: offer}
                        loader.expect_unchanged(offered)
                tap = TapProcess(source.tap_command(), config, timeout_s=source.timeout_minutes * 60)
                # Our own taps sync every stream without a catalog, which saves a process start;
                # other taps get a discovered catalog with the chosen streams selected.
                needs_catalog = source.streams is not None or source.connector is None
                catalog = select_streams(tap.discover(), source.streams) if needs_catalog else None
                tap.run(catalog, state, feed, observer=observer)
            if stop is not None and stop.is_set():  # the tap ended on the signal: not a complete read
                raise KeyboardInterrupt
            loader.finish_pass()  # the pass completed: full-table streams' key-set diff (soft deletes)
        if loader.stats.set_aside:
            status = "partial"  # complete, but some records (or drifted fields) wait in the quarantine
    except (KeyboardInterrupt, SystemExit):
        _finish(engine, run_id, "interrupted", loader.stats, INTERRUPTED)
        raise
    except Exception as exc:
        if _stopped(stop, exc):  # the signal reached the tap too: it died of it
            _finish(engine, run_id, "interrupted", loader.stats, INTERRUPTED)
            raise KeyboardInterrupt from exc
        status = "failed"
        raw, detail = _raw_error(exc, secrets)
        raw = _name_config_problems(source, raw)
    stats = loader.stats
    address = address_of(source.connector, source.config)
    explanation = explain(source.name, source.connector, address, raw) if raw else None
    error = explanation.message if explanation else None
    _finish(engine, run_id, status, stats, error)
    if explanation:
        log.error("%s: %s", source.name, error)
        log.info("%s: sync run %s failed (%s): %s%s", source.name, run_id, explanation.kind, raw,
                 f"\n--- details (redacted) ---\n{detail}" if detail else "")
    result = SyncResult(
        source=source.name, run_id=run_id, status=status, seen=stats.seen, landed=stats.landed,
        rejected=stats.rejected, error=error, per_stream={k: vars(v) for k, v in stats.streams.items()},
        kind=explanation.kind if explanation else None, duration_s=time.monotonic() - begun,
        full_refresh=full_refresh, quarantined=stats.quarantined, duplicates=stats.duplicates,
        drift_events=stats.drift_events, withheld=stats.withheld or None,
    )
    if observer:
        observer.sync_finished(result)
    return result


def _finish(engine: Engine, run_id: int, status: str, stats: LoadStats, error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(sync_run).where(sync_run.c.id == run_id).values(
                finished_at=datetime.now(UTC), heartbeat_at=datetime.now(UTC), status=status, error=error,
                deletions_withheld=json.dumps(stats.withheld, sort_keys=True) if stats.withheld else None,
                **_counts(stats),
            )
        )


def sync_sources(engine: Engine, sources: list[SourceConfig], *, parallel: int = 1, full_refresh: bool = False,
                 observer_for: Callable[[str], SyncObserver | None] | None = None,
                 max_drop: float | None = DEFAULT_MAX_DROP) -> list[SyncResult]:
    """Sync ``sources``, up to ``parallel`` at a time; the results in the sources' order.

    Why: each source is its own tap process and lock, so a run of several sources need not wait
    for the slowest one in turn (an incremental run is mostly U8 re-listing its windows while the
    others are done in a second or two). Threads suffice: the taps are processes and the loaders
    mostly wait on them and on the database. Every source still gets its own :func:`sync_source`
    - one failing is recorded and returned, never stops the others. ``observer_for(name)`` gives
    each source its own observer (a shared one cannot tell concurrent taps' lines apart)."""
    def one(source: SourceConfig, stop: threading.Event | None = None) -> SyncResult:
        observer = observer_for(source.name) if observer_for else None
        return sync_source(engine, source, full_refresh=full_refresh, observer=observer, max_drop=max_drop,
                           stop=stop)

    if len(sources) <= 1:
        return [one(source) for source in sources]
    # Several taps: each forks from one warm launcher instead of importing singer_sdk afresh
    # (connectors/warm_taps.py; ~0.5 s of CPU per tap start).
    with warm_taps.session():
        if parallel <= 1:
            return [one(source) for source in sources]
        return _in_parallel(one, sources, parallel)


def _in_parallel(one: Callable[..., SyncResult], sources: list[SourceConfig], parallel: int) -> list[SyncResult]:
    """``one(source, stop)`` for every source on ``parallel`` threads; Ctrl-C stops them all."""
    from concurrent.futures import ThreadPoolExecutor

    # An exec'd tap dies with the thread that started it (PR_SET_PDEATHSIG, connectors/singer_runner.py;
    # a warm one with its launcher): each worker thread runs a whole sync, tap included, before
    # it takes the next source.
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=min(parallel, len(sources)), thread_name_prefix="sync")
    futures = [pool.submit(one, source, stop) for source in sources]
    try:
        return [future.result() for future in futures]
    except KeyboardInterrupt:
        # Ctrl-C reaches only the main thread: stop the syncs not begun and tell the running ones,
        # which end ``interrupted`` at their tap's next line or end and never finish a pass (a tap
        # that exits cleanly on the signal must not look like a complete read). A flag read at
        # those points, not an exception thrown into the threads: one thrown at an arbitrary
        # instruction could cut short the very write that records the run's end.
        stop.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
