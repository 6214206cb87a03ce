"""What one load landed, set aside and noticed, per stream: the counts a sync run reports.

Kept apart from the loader (connectors/landing.py) because the counts are read by more than the
loader: connectors/sync.py writes them to ``sync_run``, the CLI's progress display polls them
while a load runs. ``connectors.landing`` re-exports :class:`LoadStats` and :class:`StreamStats`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class StreamStats:
    """Counts of one stream in one load. ``seen`` counts every record the tap read for it (sent,
    or left out as unchanged: ``unchanged``); ``landed`` only the new versions (an unchanged
    record is seen, not landed)."""

    seen: int = 0
    unchanged: int = 0  # not sent: the tap found the version the hub holds (connectors/kit/unchanged.py)
    landed: int = 0
    rejected: int = 0  # set aside (every occurrence, also of payloads quarantined before)
    deleted: int = 0  # marked deleted by a full-table key-set diff
    quarantined: int = 0  # new quarantine entries (payloads not set aside before)
    duplicates: int = 0  # occurrences of a key already seen in this run (the last one wins)
    drifted: int = 0  # records that drifted from the declared schema (any policy)
    frozen: int = 0  # drifted records landed without their drifted fields (policy freeze)
    withheld: int = 0  # not returned by a pass too small to believe: not marked (see finish_pass)
    live: int = 0  # live records before the pass (full-table streams; the base of ``withheld``)


@dataclass
class LoadStats:
    """Counts per stream for one load, plus the last state committed."""

    streams: dict[str, StreamStats] = field(default_factory=lambda: defaultdict(StreamStats))
    state: dict | None = None
    unparsable: int = 0
    quarantined_other: int = 0  # new quarantine entries of no stream (lines that were not Singer...)
    drift_events: int = 0  # distinct schema drift events of the run

    @property
    def seen(self) -> int:
        return sum(s.seen for s in self.streams.values())

    @property
    def landed(self) -> int:
        return sum(s.landed for s in self.streams.values())

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.streams.values()) + self.unparsable

    @property
    def deleted(self) -> int:
        return sum(s.deleted for s in self.streams.values())

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.streams.values()) + self.quarantined_other

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.streams.values())

    @property
    def set_aside(self) -> int:
        """Records or field values this run put in the quarantine: the run ends ``partial``."""
        return self.rejected + sum(s.frozen for s in self.streams.values())

    @property
    def withheld(self) -> dict[str, dict[str, int]]:
        """Streams whose deletions were withheld: ``{stream: {"live": n, "withheld": n}}``."""
        return {name: {"live": s.live, "withheld": s.withheld} for name, s in sorted(self.streams.items())
                if s.withheld}
