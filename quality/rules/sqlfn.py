"""Portable time arithmetic for rule SQL (SQLite and PostgreSQL).

Instants become epoch milliseconds and calendar days become day numbers (days since 1970-01-01),
so every window of business-rules.md is plain integer arithmetic on both backends, exact to the ms.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from quality.rules.base import DAY_MS


class epoch_ms(FunctionElement):
    """Epoch milliseconds of a timestamp column (stored as UTC)."""

    type = BigInteger()
    inherit_cache = True


class epoch_day(FunctionElement):
    """Days since 1970-01-01 of a date column."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_ms, "sqlite")
def _ms_sqlite(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(ROUND((julianday({arg}) - 2440587.5) * 86400000.0) AS INTEGER)"


@compiles(epoch_ms, "postgresql")
def _ms_pg(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {arg}) * 1000) AS BIGINT)"


@compiles(epoch_day, "sqlite")
def _day_sqlite(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(ROUND(julianday({arg}) - 2440587.5) AS INTEGER)"


@compiles(epoch_day, "postgresql")
def _day_pg(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    return f"({arg} - DATE '1970-01-01')"


def local_day_of_ms(ms_expr, offset_ms: int):
    """Calendar day number (in the tenant's zone, fixed offset) of an epoch-ms expression."""
    return (ms_expr + offset_ms) // DAY_MS


def day_number(day) -> int:
    """Python side of :class:`epoch_day`."""
    from datetime import date

    return (day - date(1970, 1, 1)).days
