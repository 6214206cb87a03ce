"""Statements the warehouse sends in bulk, shaped per dialect.

``copy_rows``: a batch of new rows written with PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3)
in the caller's transaction; an executemany sends a statement per row, which made inserts half
of a full build and a fifth of a large sync's loader CPU. Other databases insert as usual.

``among(column, values)``: ``column IN (values)`` that PostgreSQL receives as one parameter.

An incremental build narrows its statements to the rows it changed, and the reconcile and the report
look rows up by key, with lists of hundreds or thousands of refs and customer ids. Rendered as ``IN (%(p_1)s, ..., %(p_2000)s)``, psycopg parses
every such statement again on the client (too long for its cache: ~6 ms of CPU per 1,000
values) and the server plans a list as long; ``= ANY(%(p)s)`` is one parameter, whatever the
count. Texts go further: psycopg adapts a list parameter element by element in Python (~3.5 us a
value; an incremental build looks up ~100k block keys, refs and customer ids), so a list of texts
is sent as ONE text joined by a control character and split by the server
(``= ANY(string_to_array(%(p)s, E'\\x1f'))``): 50k block keys in chunks of 1,000 cost 0.30-0.37 CPU s
as an array, 0.12-0.15 s joined (branch inc2). A list that is not all texts, is empty or only
``[""]`` (``string_to_array`` gives no element for an empty text) or holds a value with the
separator in it (no staged text can: control characters are cleaned) goes as the array. Other
databases (SQLite) get the plain ``IN`` (an expanding parameter). The statement embeds no value in
any form, so SQLAlchemy compiles it once per shape and reuses it.
"""

from __future__ import annotations

from sqlalchemy import Text, any_, bindparam, func, literal_column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

UNIT = "\x1f"  # joins the texts of :class:`among` on PostgreSQL (a control character: no staged text holds one)
_UNIT_SQL = literal_column("E'\\x1f'", Text)  # the same, written in the statement (not one more parameter)


def sorted_chunks(values, size: int):
    """``values`` (None left out) sorted, in lists of at most ``size``: the look-ups of an ``among``
    in bounded IN lists or arrays, in a stable order."""
    ordered = sorted(v for v in values if v is not None)
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]


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


def joined_texts(values: list) -> str | None:
    """``values`` as one text joined by :data:`UNIT`, or None when the server could not split it
    back into exactly these values: not all texts, no values or only ``[""]``, or a value holding
    the separator."""
    try:
        joined = UNIT.join(values)
    except TypeError:  # not all texts
        return None
    return joined if joined and joined.count(UNIT) == len(values) - 1 else None


class among(ColumnElement):
    """``column`` is one of ``values`` (a list, compiled per dialect; see the module doc). Every
    form's value is a bound parameter the statement's cache key carries, so a cached compilation
    is reused with this element's values; whether the values could be joined is part of the key."""

    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("joinable", InternalTraversal.dp_boolean),
        ("joined", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, values) -> None:
        self.column, self.values = column, list(values)
        joined = joined_texts(self.values)
        self.joinable = joined is not None
        self.joined = bindparam(None, joined or "", type_=Text)  # PostgreSQL, texts
        self.array = bindparam(None, self.values, type_=ARRAY(column.type))  # PostgreSQL, other values
        self.listed = bindparam(None, self.values, expanding=True)  # elsewhere: IN


@compiles(among)
def _in_list(element: among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.listed), **kw)


@compiles(among, "postgresql")
def _any_array(element: among, compiler, **kw) -> str:
    if element.joinable:
        values = func.string_to_array(element.joined, _UNIT_SQL, type_=ARRAY(Text))
    else:
        values = element.array
    return compiler.process(element.column == any_(values), **kw)


def codepoint_order(conn, column):
    """``column`` to order by as Python's ``<`` compares text (code point by code point), which
    merge-style readers that walk two ordered results side by side rely on. PostgreSQL's default
    collation orders text by language rules, so it is asked for "C" (byte order: code-point order
    for UTF-8); SQLite compares bytes already."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column
