"""Soft deletes for full-table streams: current records a complete pass did not return.

Used by :meth:`connectors.landing.SingerLoader.finish_pass` (see the landing module docstring
for when a pass counts as complete).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, bindparam, select, update

from hub_core.schema import raw_record

log = logging.getLogger(__name__)

_KEY_CHUNK = 500  # stays under SQLite's bound-parameter limit


def mark_unseen_deleted(engine: Engine, source: str, stream: str, seen: set[str]) -> int:
    """Set ``deleted_at`` on the live current records of ``source``/``stream`` whose key is not
    in ``seen``; return how many. Nothing is marked when ``seen`` is empty but live records
    exist: an empty answer is more often a wrong account set or an outage than a source that
    deleted everything. The key list is read once (keys only), the marks go in chunks in one
    transaction; both statements filter on ``is_current`` so they use the current-version index.
    """
    live = and_(raw_record.c.source == source, raw_record.c.stream == stream,
                raw_record.c.is_current, raw_record.c.deleted_at.is_(None))
    with engine.begin() as conn:
        query = select(raw_record.c.record_key).where(live).execution_options(yield_per=5000)
        gone = [key for key in conn.execute(query).scalars() if key not in seen]
        if not seen and gone:
            log.warning("%s/%s: a complete pass returned no record but %d are live; not marking them "
                        "deleted", source, stream, len(gone))
            return 0
        mark = (update(raw_record)
                .where(live, raw_record.c.record_key.in_(bindparam("keys", expanding=True)))
                .values(deleted_at=datetime.now(UTC)))
        for i in range(0, len(gone), _KEY_CHUNK):
            conn.execute(mark, {"keys": gone[i : i + _KEY_CHUNK]})
    if gone:
        log.info("%s/%s: %d records no longer at the source, marked deleted", source, stream, len(gone))
    return len(gone)
