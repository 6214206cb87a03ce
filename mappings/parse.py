"""Lenient value parsers for source records: bad values become None, never exceptions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

# BIGINT bounds: a value beyond them is not a real amount or time, and must not break a build.
_INT_LIMIT = 2**63 - 1


def to_cents(value) -> int | None:
    """Money (number or numeric string, CNY) as integer cents, rounded half-up."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) * 100 > _INT_LIMIT:
        return None
    return int((amount * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def to_int(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if abs(number) <= _INT_LIMIT else None


def to_day(value) -> date | None:
    """A ``YYYY-MM-DD`` (or ``YYYY-MM-DD HH:MM:SS``) field as a calendar date."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def ms_to_day(ms: int | None, tz: str) -> date | None:
    """The calendar date, in ``tz``, of an epoch-milliseconds instant."""
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(tz)).date()
    except (OverflowError, ValueError, OSError):  # outside the calendar: not a real date
        return None


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("as-of times must carry a timezone")
    return int(moment.timestamp() * 1000)


def day_in(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def is_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))

