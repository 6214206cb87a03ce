"""Writing derived tables by difference: only rows that changed are deleted and inserted, so a
rebuild that changes nothing writes nothing."""

from __future__ import annotations

from operator import itemgetter

from sqlalchemy import Connection, delete, func, insert, select

from hub_core.schema_identity import customer_golden_field
from hub_core.sql import among
from mappings.staging import insert_rows

BATCH = 2000


def insert_many(conn: Connection, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys). On SQLite one ``executemany`` of plain tuples,
    each value through its column type's bind processor as SQLAlchemy would: the ORM-free Core
    path still builds and processes a parameter dict per row, which was a third of the writing
    time of a full resolution (half a million rows at 30k customers). Elsewhere
    :func:`mappings.staging.insert_rows` (``COPY`` on psycopg). A table whose missing columns
    have Python-side defaults takes the plain Core insert."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        insert_rows(conn, table, rows)
        return
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup or ())
    if any(n not in rows[0] for n in names):  # a default fills a column: let SQLAlchemy do it
        conn.execute(insert(table), rows)
        return
    procs = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    # the values in column order by one C-level itemgetter per row; only the few columns whose
    # type has a bind processor (a DateTime, a Boolean) are then processed in Python
    values = itemgetter(*names) if len(names) > 1 else (lambda r: (r[names[0]],))
    params = [values(r) for r in rows]
    processed = [(n, p, {}) for n, p in enumerate(procs) if p]
    if processed:
        params = [_processed(list(v), processed) for v in params]
    conn.exec_driver_sql(str(compiled), params)


def _processed(row: list, processed: list) -> tuple:
    # each distinct value object is processed once per call (the rows of a batch share their
    # ``now``): by identity, as the values live in ``params`` until the call ends
    for n, proc, done in processed:
        value = row[n]
        key = id(value)
        if key in done:
            row[n] = done[key]
        else:
            row[n] = done[key] = proc(value)
    return tuple(row)


def sync_rows(conn: Connection, table, key: str, scope: set, desired: dict[str, dict], existing: dict[str, dict]) -> int:
    """Make ``table`` rows whose ``key`` is in ``scope`` equal ``desired``; write only differences."""
    stale = sorted(k for k in scope if k in existing and (k not in desired or desired[k] != existing[k]))
    fresh = [desired[k] for k in sorted(scope) if k in desired and desired[k] != existing.get(k)]
    col = table.c[key]
    for i in range(0, len(stale), 500):
        conn.execute(delete(table).where(col.in_(stale[i:i + 500])))
    for i in range(0, len(fresh), BATCH):
        insert_many(conn, table, fresh[i:i + BATCH])
    return len(stale) + len(fresh)


def table_rows(conn: Connection, table, key: str) -> dict[str, dict]:
    """Every row of ``table`` as a dict, by ``key``."""
    return {r._mapping[key]: dict(r._mapping) for r in conn.execute(select(table))}


def sync_golden(conn: Connection, scope: set, desired: dict, existing: dict) -> int:
    """:func:`sync_rows` for the golden-field table (keyed ``"<customer id>|<field>"``)."""
    t = customer_golden_field
    stale = [k for k in scope if k in existing and desired.get(k) != existing[k]]
    by_field: dict[str, list[str]] = {}  # one DELETE per field and chunk of ids, not one per row
    for k in stale:
        cid, field = k.split("|", 1)
        by_field.setdefault(field, []).append(cid)
    for field, cids in sorted(by_field.items()):
        cids.sort()
        for i in range(0, len(cids), 500):
            conn.execute(delete(t).where(t.c.field == field, among(t.c.customer_id, cids[i:i + 500])))
    fresh = [desired[k] for k in sorted(scope) if k in desired and desired[k] != existing.get(k)]
    for i in range(0, len(fresh), BATCH):
        insert_many(conn, t, fresh[i:i + BATCH])
    return len(stale) + len(fresh)


def count_rows(conn: Connection, table) -> int:
    """The number of rows in ``table``."""
    return conn.execute(select(func.count()).select_from(table)).scalar_one()
