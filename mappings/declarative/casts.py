"""Casts from source values to typed column values.

A cast either returns a value or raises ``CastError`` with a one-line reason; it never turns a
bad value into ``None`` by itself: the engine decides (quarantine the row when the field is
required, keep it with a data-quality finding when optional).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

_INT_LIMIT = 2**63 - 1
# Instants outside these years are not real business times (and would break some drivers).
_MIN_MS = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp() * 1000)
_MAX_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)
# C0 controls except tab/newline/carriage return, DEL and C1 controls: never useful in text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class CastError(ValueError):
    """A source value that does not fit its declared type."""


def clean_text(value: str) -> tuple[str, bool]:
    """``value`` without NUL and other control characters; the flag says whether any were removed."""
    if _CONTROL.search(value) is None:
        return value, False
    return _CONTROL.sub("", value), True


def _scalar(value):
    if isinstance(value, (dict, list)):
        raise CastError(f"expected a single value, got a {type(value).__name__}")
    return value


def _decimal(value) -> Decimal:
    value = _scalar(value)
    if isinstance(value, bool):
        raise CastError("expected a number, got a boolean")
    text = str(value).strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CastError("not a number") from None
    if not number.is_finite():
        raise CastError("not a finite number")
    return number


def to_str(value, tz: str):
    value = _scalar(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_int(value, tz: str) -> int:
    number = _decimal(value)
    if abs(number) > _INT_LIMIT:
        raise CastError("whole number out of range")
    if number != number.to_integral_value():
        raise CastError("not a whole number")
    return int(number)


def to_number(value, tz: str) -> float:
    number = _decimal(value)
    if abs(number) > _INT_LIMIT:
        raise CastError("number out of range")
    return float(number)


def to_money(value, tz: str) -> int:
    """CNY (number or numeric string, thousands separators allowed) as integer cents, half-up."""
    amount = _decimal(value)
    if abs(amount) * 100 > _INT_LIMIT:  # before quantize, which fails on huge exponents
        raise CastError("amount out of range")
    return int((amount * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def to_bool(value, tz: str) -> bool:
    value = _scalar(value)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    raise CastError("not a boolean")


def _instant(ms: int) -> datetime:
    if not _MIN_MS <= ms < _MAX_MS:
        raise CastError("time outside 1990-2100")
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_epoch_ms(value, tz: str) -> datetime:
    return _instant(to_int(value, tz))


def to_epoch_s(value, tz: str) -> datetime:
    return _instant(to_int(value, tz) * 1000)


def to_epoch_ms_day(value, tz: str) -> date:
    return to_epoch_ms(value, tz).astimezone(ZoneInfo(tz)).date()


def to_date(value, tz: str) -> date:
    """``YYYY-MM-DD`` (a trailing time is ignored) as a calendar day."""
    text = str(_scalar(value)).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise CastError("not a YYYY-MM-DD date") from None


def to_datetime_local(value, tz: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` local to the mapping's time zone, as a UTC instant."""
    text = str(_scalar(value)).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CastError("not a YYYY-MM-DD HH:MM:SS time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    if not 1990 <= moment.year < 2100:
        raise CastError("time outside 1990-2100")
    return moment.astimezone(UTC)


def to_json(value, tz: str) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def to_mobile(value, tz: str) -> str:
    from mappings.normalize import normalize_mobile

    mobile = normalize_mobile(_scalar(value))
    if mobile is None:
        raise CastError("not a mainland mobile number")
    return mobile


CASTS = {
    "str": to_str, "text": to_str, "int": to_int, "number": to_number, "money": to_money, "bool": to_bool,
    "epoch_ms": to_epoch_ms, "epoch_s": to_epoch_s, "epoch_ms_day": to_epoch_ms_day, "date": to_date,
    "datetime_local": to_datetime_local, "json": to_json, "mobile": to_mobile,
}
TEXT_CASTS = {"str", "text", "json"}
