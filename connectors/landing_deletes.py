"""Soft deletes for full-table streams: current records a complete pass did not return.

Used by :meth:`connectors.landing.SingerLoader.finish_pass` (see the landing module docstring
for when a pass counts as complete).

A pass that returns far fewer of the live records than the stream holds is believed to be an
outage (a wrong account set, an API answering a partial page set, a source restored from an old
backup), not a purge: when the records it did not return are more than ``max_drop`` of the live
ones (the stale-source threshold, ``staleness.max_drop`` in the rules file, default 50 %) - or it
returned nothing at all - no deletion is marked. The caller records how many were *withheld*
(``sync_run.deletions_withheld``), which makes the source stale (quality/staleness.py): its
unified rows keep their last good data and the rules reading it are held back. A real mass
deletion is accepted by one sync with ``max_drop=None`` (``hub sync --accept-deletions``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, bindparam, select, update

from connectors.key_hashes import KeyHashes
from hub_core.schema import raw_record
from hub_core.settings import DEFAULT_MAX_DROP

log = logging.getLogger(__name__)

_KEY_CHUNK = 500  # stays under SQLite's bound-parameter limit


@dataclass
class PassDeletes:
    """What one complete pass meant for a stream's live records."""

    live: int  # live current records before the pass
    deleted: int = 0  # marked deleted
    withheld: int = 0  # not returned, but not marked: the pass looked like an outage


def too_small(live: int, gone: int, returned: int, max_drop: float | None) -> bool:
    """Is a pass that left ``gone`` of ``live`` records unreturned (and returned ``returned``
    records in all) an outage rather than deletions? Always when it returned nothing at all;
    else when more than ``max_drop`` of the live records are gone. ``max_drop=None`` believes
    every pass."""
    if max_drop is None or not gone:
        return False
    return returned == 0 or gone > live * max_drop


def mark_unseen_deleted(engine: Engine, source: str, stream: str, seen: KeyHashes | set[str],
                        max_drop: float | None = DEFAULT_MAX_DROP) -> PassDeletes:
    """Set ``deleted_at`` on the live current records of ``source``/``stream`` whose key is not
    in ``seen`` (the pass's keys: a :class:`~connectors.key_hashes.KeyHashes`, or a set), unless the pass looks like an outage (:func:`too_small`: then nothing is marked
    and the count comes back as ``withheld``). The key list is read once (keys only), the marks
    go in chunks in one transaction; both statements filter on ``is_current`` so they use the
    current-version index.
    """
    live = and_(raw_record.c.source == source, raw_record.c.stream == stream,
                raw_record.c.is_current, raw_record.c.deleted_at.is_(None))
    with engine.begin() as conn:
        query = select(raw_record.c.record_key).where(live).execution_options(yield_per=5000)
        n_live = 0
        gone: list[str] = []
        for chunk in conn.execute(query).scalars().partitions(5000):
            n_live += len(chunk)
            gone.extend(seen.missing(chunk) if isinstance(seen, KeyHashes) else
                        [key for key in chunk if key not in seen])
        if too_small(n_live, len(gone), len(seen), max_drop):
            log.warning("%s/%s: a complete pass returned %d records and left %d of %d live ones out: more "
                        "likely an outage than deletions; none marked deleted (withheld)", source, stream,
                        len(seen), len(gone), n_live)
            return PassDeletes(n_live, withheld=len(gone))
        mark = (update(raw_record)
                .where(live, raw_record.c.record_key.in_(bindparam("keys", expanding=True)))
                .values(deleted_at=datetime.now(UTC)))
        for i in range(0, len(gone), _KEY_CHUNK):
            conn.execute(mark, {"keys": gone[i : i + _KEY_CHUNK]})
    if gone:
        log.info("%s/%s: %d records no longer at the source, marked deleted", source, stream, len(gone))
    return PassDeletes(n_live, deleted=len(gone))
