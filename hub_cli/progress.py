"""Live progress of ``hub sync`` and its end-of-run summary table.

Records come from the loader's own counts (exact); pages from singer-sdk's
``http_request_count`` METRIC lines on the tap's stderr; waits from stderr lines matching
``progress_patterns.yaml`` (budget waits, backoff, retries). On a terminal a live table shows
each stream; elsewhere (logs, CI) one line per source when it ends.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import yaml
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from hub_core.settings import LANDED_STATUSES

PATTERNS_FILE = Path(__file__).with_name("progress_patterns.yaml")


def _wait_regex() -> re.Pattern:
    patterns = yaml.safe_load(PATTERNS_FILE.read_text(encoding="utf-8"))["waits"]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass
class SourceProgress:
    """What is known about one source's sync so far."""

    name: str
    run_id: int | None = None
    stats: object = None  # connectors.landing.LoadStats while it runs
    started: float = field(default_factory=time.monotonic)
    pages: dict = field(default_factory=lambda: defaultdict(int))
    waits: int = 0
    result: object = None  # connectors.sync.SyncResult once done


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f}/s" if seconds > 0.5 else "-"


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class SyncProgress:
    """A :class:`connectors.sync.SyncObserver` that draws progress on a rich console."""

    def __init__(self, console: Console, live: bool | None = None):
        self.console = console
        self.live_enabled = console.is_terminal if live is None else live
        self.sources: dict[str, SourceProgress] = {}
        self.current: SourceProgress | None = None
        self._lock = threading.Lock()
        self._waits = _wait_regex()
        self._live: Live | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        if self.live_enabled:
            self._live = Live(self._table(), console=self.console, refresh_per_second=4, transient=True,
                              get_renderable=self._table)
            self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._live:
            self._live.stop()

    # --- SyncObserver ----------------------------------------------------------------------
    def sync_started(self, source: str, run_id: int, stats) -> None:
        """Start showing ``source``; ``stats`` are the loader's live counts."""
        with self._lock:
            self.current = self.sources[source] = SourceProgress(source, run_id, stats)

    def tap_line(self, line: str) -> None:
        """Count a page (``http_request_count`` metric) or a wait (progress_patterns.yaml)."""
        self._count(self.current, line)

    def for_source(self, source: str) -> SourceObserver:
        """The observer for ``source`` when several sources sync at once: its tap's lines count
        for it, not for whichever source started last."""
        return SourceObserver(self, source)

    def _count(self, current: SourceProgress | None, line: str) -> None:
        from connectors.singer_runner import parse_metric

        if current is None:
            return
        if "METRIC: " in line:
            metric = parse_metric(line)
            if metric and metric.get("metric") == "http_request_count":
                stream = (metric.get("tags") or {}).get("stream") or "?"
                with self._lock:
                    current.pages[stream] += int(metric.get("value") or 1)
        elif self._waits.search(line):
            with self._lock:
                current.waits += 1

    def sync_finished(self, result) -> None:
        """Keep the result; without a live display, print its line now."""
        with self._lock:
            entry = self.sources.setdefault(result.source, SourceProgress(result.source, result.run_id))
            entry.result = result
            if self.current is not None and self.current.name == result.source:
                self.current = None
        if not self.live_enabled:
            self.console.print(self._line(entry), highlight=False, soft_wrap=True)

    # --- rendering -------------------------------------------------------------------------
    def _line(self, entry: SourceProgress) -> str:
        r = entry.result
        if r.status in LANDED_STATUSES:
            aside = f"{r.rejected} set aside" if r.status == "succeeded" else \
                f"[yellow]{r.rejected} set aside (hub quarantine list -s {escape(entry.name)})[/yellow]"
            return f"{entry.name}: {r.seen} records read, {r.landed} landed, {aside} in {_duration(r.duration_s)}"
        return f"[red]{escape(entry.name)}: {r.status}[/red] — {escape(r.error or '')}"

    def _table(self) -> Table:
        table = Table(title="Syncing", title_justify="left")
        for col in ("source", "stream", "records", "pages", "rate", "waits"):
            table.add_column(col, justify="left" if col in ("source", "stream") else "right")
        with self._lock:
            for entry in self.sources.values():
                elapsed = time.monotonic() - entry.started
                if entry.result is not None:
                    table.add_row(entry.name, f"[dim]{entry.result.status}[/dim]", str(entry.result.seen),
                                  str(sum(entry.pages.values())), "", str(entry.waits))
                    continue
                streams = dict(getattr(entry.stats, "streams", {}) or {})
                for stream in sorted(set(streams) | set(entry.pages)):
                    seen = getattr(streams.get(stream), "seen", 0)
                    table.add_row(entry.name, stream, f"{seen:,}", str(entry.pages.get(stream, 0)),
                                  _rate(seen, elapsed), "")
                total = getattr(entry.stats, "seen", 0)
                table.add_row(f"[bold]{entry.name}[/bold]", "[bold]all[/bold]", f"{total:,}",
                              str(sum(entry.pages.values())), _rate(total, elapsed), str(entry.waits))
        return table

    def summary(self) -> Table:
        """The end-of-run table: one row per source."""
        table = Table(title="Sync summary", title_justify="left")
        for col in ("source", "status", "read", "landed", "set aside", "streams", "pages", "waits", "time", "rate"):
            table.add_column(col, justify="left" if col in ("source", "status") else "right")
        for entry in self.sources.values():
            r = entry.result
            if r is None:
                continue
            status = {"succeeded": r.status, "partial": f"[yellow]{r.status}[/yellow]"}.get(r.status,
                                                                                           f"[red]{r.status}[/red]")
            table.add_row(entry.name, status + (" (full)" if r.full_refresh else ""), f"{r.seen:,}", f"{r.landed:,}",
                          f"{r.rejected:,}", str(len(r.per_stream or {})), str(sum(entry.pages.values())),
                          str(entry.waits), _duration(r.duration_s), _rate(r.seen, r.duration_s))
        return table


class SourceObserver:
    """One source's view of a shared :class:`SyncProgress` (``hub sync --parallel``)."""

    def __init__(self, progress: SyncProgress, source: str):
        self.progress, self.source = progress, source

    def sync_started(self, source: str, run_id: int, stats) -> None:
        """As :meth:`SyncProgress.sync_started`."""
        self.progress.sync_started(source, run_id, stats)

    def tap_line(self, line: str) -> None:
        """Count the line for this source."""
        with self.progress._lock:
            entry = self.progress.sources.get(self.source)
        self.progress._count(entry, line)

    def sync_finished(self, result) -> None:
        """As :meth:`SyncProgress.sync_finished`."""
        self.progress.sync_finished(result)
