"""Writing versioned raw records and the Singer state: the loader's SQL, set-based per batch.

Split from connectors/landing.py so the loader keeps the message handling and this module the
storage rules: a record lands as a new current version only when its content hash differs from
the current one (or the current one is deleted); the version it replaces stops being current in
the same transaction. ``connectors.landing`` re-exports :func:`current_versions` and
:func:`load_state`.

On PostgreSQL through psycopg 3 new versions go in with ``COPY ... FROM STDIN`` (in the same
transaction): an ``INSERT`` per row, even pipelined, cost the loader about a fifth of its CPU on a
large sync and the server a statement each. Other databases and drivers get one ``executemany``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    String,
    and_,
    any_,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from hub_core.schema import raw_record, sync_state
from hub_core.sql import copy_rows

_KEY_CHUNK = 500  # stays under SQLite's bound-parameter limit
_ARRAY_CHUNK = 10_000  # keys per PostgreSQL array parameter (a loader batch is 5,000)


def current_versions(source: str, stream: str):
    """The current versions of the records keyed by the expanding ``keys`` parameter. Written
    so both planners use the partial index ``uq_raw_record_current`` (see hub_core/schema.py)."""
    return and_(
        raw_record.c.source == source,
        raw_record.c.stream == stream,
        raw_record.c.is_current,
        raw_record.c.record_key.in_(bindparam("keys", expanding=True)),
    )


def _keyed(conn: Connection, source: str, stream: str) -> tuple:
    """:func:`current_versions` and the keys per statement. On PostgreSQL the keys go as one
    array (``record_key = ANY(:keys)``, same partial index): a whole batch in one statement
    instead of an ``IN`` list of 500 placeholders that the driver parses again per chunk."""
    if conn.dialect.name != "postgresql":
        return current_versions(source, stream), _KEY_CHUNK
    where = and_(
        raw_record.c.source == source,
        raw_record.c.stream == stream,
        raw_record.c.is_current,
        raw_record.c.record_key == any_(bindparam("keys", type_=ARRAY(String))),
    )
    return where, _ARRAY_CHUNK


def land_versions(conn: Connection, source: str, stream: str, sync_run_id: int,
                  latest: dict[str, tuple[str, dict]]) -> int:
    """Land ``latest`` (``{key: (content hash, record)}``) as current versions where the content
    changed; returns how many landed. Unchanged records add no row."""
    keys = list(latest)
    current: dict[str, str | None] = {}
    where, chunk = _keyed(conn, source, stream)
    lookup = select(raw_record.c.record_key, raw_record.c.record_hash, raw_record.c.deleted_at).where(where)
    for i in range(0, len(keys), chunk):
        for key, digest, deleted_at in conn.execute(lookup, {"keys": keys[i : i + chunk]}):
            current[key] = None if deleted_at is not None else digest  # a deleted one comes back
    changed = [k for k in keys if current.get(k) != latest[k][0]]
    if not changed:
        return 0
    superseded = [k for k in changed if k in current]
    retire = update(raw_record).where(where).values(is_current=False)
    for i in range(0, len(superseded), chunk):
        conn.execute(retire, {"keys": superseded[i : i + chunk]})
    now = datetime.now(UTC)
    rows = [(source, stream, key, latest[key][0], orjson.dumps(latest[key][1]).decode(), True, sync_run_id, now)
            for key in changed]
    if not copy_rows(conn, raw_record.name, _COLUMNS, rows):
        conn.execute(insert(raw_record), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])
    return len(changed)


#: The columns a new version sets, in the order of :func:`land_versions`' rows.
_COLUMNS = ("source", "stream", "record_key", "record_hash", "data", "is_current", "sync_run_id", "landed_at")


def write_state(conn: Connection, source: str, state: dict) -> None:
    """Replace ``source``'s Singer state (in the caller's transaction, with the records it covers)."""
    conn.execute(delete(sync_state).where(sync_state.c.source == source))
    conn.execute(
        insert(sync_state),
        {"source": source, "state": orjson.dumps(state).decode(), "updated_at": datetime.now(UTC)},
    )


def load_state(engine: Engine, source: str) -> dict | None:
    """The last committed Singer state of ``source``, or None before its first sync."""
    with engine.connect() as conn:
        value = conn.execute(select(sync_state.c.state).where(sync_state.c.source == source)).scalar()
    return orjson.loads(value) if value else None
