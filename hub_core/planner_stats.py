"""Fresh planner statistics for the tables a stage reads, before it reads them (PostgreSQL).

Why: the build rewrites the unified model in bulk and the reconcile follows at once, before
autovacuum's next look (it wakes once a minute, and on a busy server later; on the bench's server it
is off). A table never analysed has no statistics at all, and the planner then guesses: at 10k
customers R10 looked each silent customer's first CRM account up by walking the primary key
(~6,700 rows per customer, 5.9 s) and R8 took 2.3 s, where with statistics they take 0.2 s and
0.03 s; an incremental build's look-ups of a thousand keys (``= ANY``) in the block index and the
unified tables were estimated at the whole table and scanned it (30-240 ms each, ~60 of them).
ANALYZE changes no row, so every stage computes exactly what it computed before.

Only tables whose statistics are missing or stale are analysed, by autovacuum's own measure
(more than 50 rows + 10 % of the table changed since the last analysis), so the run after a
small change pays nothing here. A table without column statistics is stale whatever its
``reltuples`` says (CREATE INDEX sets that without gathering any). A table rewritten inside the
caller's transaction (whose changes the statistics counters do not show yet) is judged by its row
count (``refresh_rewritten``). A full build analyses every table it read outright
(``refresh(..., force=True)``) right after it commits: its rows reach the change counters at the
commit, so an ANALYZE inside it would leave them all counted as changed since.

Shared ground: the build (mappings) and the reconcile (quality) both call it.
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy import Connection, Table, text

log = logging.getLogger(__name__)

# autovacuum's defaults (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor)
_THRESHOLD_ROWS = 50
_SCALE = 0.1


def tables_of(modules) -> list[Table]:
    """The tables the given modules (or module names) import: what their queries can read."""
    found: dict[str, Table] = {}
    for module in modules:
        module = sys.modules[module] if isinstance(module, str) else module
        for value in vars(module).values():
            if isinstance(value, Table):
                found.setdefault(value.name, value)
    return sorted(found.values(), key=lambda t: t.name)


def _stale(reltuples: float, changed: int | None, analysed: bool = True) -> bool:
    if not analysed or reltuples is None or reltuples < 0:  # never analysed (nor vacuumed)
        return True
    return (changed or 0) > _THRESHOLD_ROWS + _SCALE * reltuples


def refresh(conn: Connection, tables: list[Table], *, force: bool = False) -> list[str]:
    """ANALYZE each of ``tables`` whose statistics are missing or stale (``force``: each of them,
    e.g. after the caller rewrote them all); the names analysed. Nothing on other databases
    (SQLite plans without this)."""
    if conn.dialect.name != "postgresql" or not tables:
        return []
    names = [t.name for t in tables]
    # column statistics in the catalog (pg_stats): the server's activity counters (last_analyze)
    # are not copied with a database nor kept through a crash; an empty table has none to keep
    rows = conn.execute(text(
        "SELECT c.relname, c.reltuples, s.n_mod_since_analyze, c.reltuples = 0 OR EXISTS ("
        "SELECT 1 FROM pg_stats p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
        "WHERE c.oid = ANY(SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) AS n)"),
        {"names": names}).all()
    stale = sorted(name for name, reltuples, changed, analysed in rows if force or _stale(reltuples, changed, analysed))
    return _analyze(conn, stale)


def refresh_rewritten(conn: Connection, table: Table, rows_now: int) -> list[str]:
    """ANALYZE ``table`` after this transaction rewrote it to ``rows_now`` rows, when its
    statistics are missing or describe a size off by more than autovacuum's measure."""
    if conn.dialect.name != "postgresql":
        return []
    reltuples = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:n)"),
                             {"n": table.name}).scalar()
    if reltuples is None or not _stale(reltuples, abs(rows_now - max(reltuples, 0))):
        return []
    return _analyze(conn, [table.name])


def report_at_commit(conn: Connection) -> None:
    """Have this transaction's row counts reach the statistics when it commits, before the server
    answers the commit (PostgreSQL 15+: ``pg_stat_force_next_flush``; a backend otherwise reports
    them at most once a second), so that an ANALYZE right after it counts from after them."""
    if conn.dialect.name == "postgresql" and (conn.dialect.server_version_info or (0,)) >= (15,):
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def _analyze(conn: Connection, names: list[str]) -> list[str]:
    preparer = conn.dialect.identifier_preparer
    for name in names:
        conn.execute(text(f"ANALYZE {preparer.quote(name)}"))
    if names:
        log.info("planner statistics refreshed: %s", ", ".join(names))
    return names
