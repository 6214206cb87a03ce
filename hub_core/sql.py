"""``among(column, values)``: ``column IN (values)`` that PostgreSQL receives as one array parameter.

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
