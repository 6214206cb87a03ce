"""Sync one source: run its tap from the last committed state and land what it emits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, update

from connectors.landing import LoadStats, SingerLoader, load_state
from connectors.singer_runner import TapError, TapProcess, redact, secret_values, select_streams
from connectors.sources import SourceConfig
from hub_core.schema import sync_run

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    source: str
    run_id: int
    status: str  # succeeded | failed
    seen: int
    landed: int
    rejected: int
    error: str | None = None
    per_stream: dict | None = None


def sync_source(engine: Engine, source: SourceConfig) -> SyncResult:
    """Run one incremental sync. Failures are recorded and returned, never raised: one bad
    source must not stop the others."""
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(sync_run).returning(sync_run.c.id),
            {"source": source.name, "started_at": datetime.now(UTC), "status": "running",
             "records_seen": 0, "records_landed": 0, "records_rejected": 0},
        ).scalar_one()
    secrets = secret_values(source.config)
    loader = SingerLoader(engine, source.name, run_id, secrets=secrets)
    error = None
    try:
        if source.config_error:
            raise TapError(source.config_error)
        tap = TapProcess(source.tap_command(), source.config, timeout_s=source.timeout_minutes * 60)
        # Our own taps sync every stream without a catalog, which saves a process start;
        # other taps get a discovered catalog with the chosen streams selected.
        needs_catalog = source.streams is not None or source.connector is None
        catalog = select_streams(tap.discover(), source.streams) if needs_catalog else None
        tap.run(catalog, load_state(engine, source.name), loader.feed)
        loader.finish_pass()  # the tap exited 0: full-table streams were read whole (soft deletes)
    except TapError as exc:
        error = str(exc)
    except Exception as exc:  # a loader or database fault: record it, keep other sources going
        error = redact(f"{type(exc).__name__}: {exc}", secrets)
    stats: LoadStats = loader.stats
    status = "failed" if error else "succeeded"
    with engine.begin() as conn:
        conn.execute(
            update(sync_run).where(sync_run.c.id == run_id).values(
                finished_at=datetime.now(UTC), status=status, records_seen=stats.seen,
                records_landed=stats.landed, records_rejected=stats.rejected, error=error,
            )
        )
    if error:
        log.error("sync of %s failed: %s", source.name, error)
    return SyncResult(
        source=source.name, run_id=run_id, status=status, seen=stats.seen, landed=stats.landed,
        rejected=stats.rejected, error=error,
        per_stream={k: vars(v) for k, v in stats.streams.items()},
    )
