"""``hub sync``: sync the configured sources with live progress and a summary table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from hub_core.settings import LANDED_STATUSES

#: sources synced at once by default on PostgreSQL (SQLite has one writer: one at a time there)
DEFAULT_PARALLEL = 4


def default_parallel(warehouse_url: str) -> int:
    """How many sources sync at once unless told: several on PostgreSQL, where each source's
    loader writes in its own transactions; one on SQLite, whose single writer would make the
    loaders queue on its lock (and could time one out)."""
    return 1 if warehouse_url.startswith("sqlite") else DEFAULT_PARALLEL


def run_sync(console: Console, chosen: list[str] | None, warehouse: str | None, connectors: Path | None,
             full_refresh: bool, accept_deletions: bool = False, parallel: int | None = None) -> int:
    """Sync every enabled (or chosen) source, ``parallel`` at a time (default:
    :func:`default_parallel`); returns the exit code: 0 all succeeded (``partial`` counts: the
    sync completed, some records wait in the quarantine), 1 any source failed, was interrupted or
    was refused because another sync of it runs."""
    from connectors.sync import sync_sources
    from hub_cli.common import load_chosen_sources, settings, warehouse_engine
    from hub_cli.progress import SyncProgress

    conf = settings(warehouse, connectors)
    sources = load_chosen_sources(conf.connectors_file, chosen)
    for skipped in sorted(set(chosen or []) - {s.name for s in sources}):
        console.print(f"{escape(skipped)}: disabled in {conf.connectors_file} (enabled: false) — not synced",
                      highlight=False)
    if not sources:
        console.print(f"no enabled source to sync in {conf.connectors_file}", highlight=False)
        return 0
    engine = warehouse_engine(conf.warehouse_url)
    from quality.config import load_rules

    # the landing withholds the deletions of a pass too small to believe, unless told it was a real purge
    max_drop = None if accept_deletions else load_rules().staleness.max_drop
    at_once = parallel if parallel is not None else default_parallel(conf.warehouse_url)
    with SyncProgress(console) as progress:
        results = sync_sources(engine, sources, parallel=at_once, full_refresh=full_refresh,
                               observer_for=progress.for_source, max_drop=max_drop)
    if progress.live_enabled or len(results) > 1:
        console.print(progress.summary())
    failed = [r for r in results if r.status not in LANDED_STATUSES]
    if progress.live_enabled:  # the live table is gone: repeat the failures as one line each
        for result in failed:
            console.print(f"[red]{escape(result.source)}: {result.status}[/red] — {escape(result.error or '')}",
                          highlight=False, soft_wrap=True)
    return 1 if failed else 0
