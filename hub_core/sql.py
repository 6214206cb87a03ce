"""Statements the warehouse sends in bulk, shaped per dialect.

``copy_rows``: a batch of new rows written with PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3)
in the caller's transaction; an executemany sends a statement per row, which made inserts half
of a full build and a fifth of a large sync's loader CPU. Other databases insert as usual.

``among(column, values)``: ``column IN (values)`` that PostgreSQL receives as one array parameter.

An incremental build narrows its statements to the rows it changed, and the reconcile and the report
look rows up by key, with lists of hundreds or thousands of refs and customer ids. Rendered as ``IN (%(p_1)s, ..., %(p_2000)s)``, psycopg parses
every such statement again on the client (too long for its cache: ~6 ms of CPU per 1,000
values) and the server plans a list as long; ``= ANY(%(p)s)`` is one parameter, whatever the
count. Other databases (SQLite) get the plain ``IN``.
"""

from __future__ import annotations

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement


def copy_rows(conn, table: str, columns: list[str] | tuple[str, ...], rows) -> bool:
    """Write ``rows`` (tuples in ``columns``' order) into ``table`` with COPY when ``conn`` is
    psycopg 3 on PostgreSQL, in the caller's transaction; False otherwise (nothing written: the
    caller inserts them). Values go as psycopg adapts them (plain column types)."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return True


class among(ColumnElement):
    """``column`` is one of ``values`` (a list, compiled per dialect; see the module doc)."""

    inherit_cache = False  # the values are the statement: nothing to reuse between executions

    def __init__(self, column, values) -> None:
        self.column, self.values = column, list(values)


@compiles(among)
def _in_list(element: among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(among, "postgresql")
def _any_array(element: among, compiler, **kw) -> str:
    values = bindparam(None, element.values, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(values), **kw)


def codepoint_order(conn, column):
    """``column`` to order by as Python's ``<`` compares text (code point by code point), which
    merge-style readers that walk two ordered results side by side rely on. PostgreSQL's default
    collation orders text by language rules, so it is asked for "C" (byte order: code-point order
    for UTF-8); SQLite compares bytes already."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column
