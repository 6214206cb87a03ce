"""Money is kept in integer cents; these turn it into what each system writes."""

from __future__ import annotations

from decimal import Decimal

VAT_PERCENT = 13


def money(cents: int) -> float:
    """A JSON number with (at most) 2 decimals: float(cents / 100) prints back exactly."""
    return cents / 100


def money_text(cents: int) -> str:
    """Exact text with 2 decimals, e.g. ``"123456.78"``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def u8_money(cents: int, as_text: bool) -> float | str:
    """U8 sends amounts as JSON numbers or as numeric strings."""
    return money_text(cents) if as_text else money(cents)


def u8_quantity(quantity: int, as_text: bool) -> int | str:
    return f"{quantity}.00" if as_text else quantity


def before_tax(cents: int) -> int:
    """The amount before 13 % VAT, rounded half up to the cent."""
    base = 100 + VAT_PERCENT
    return (cents * 100 + base // 2) // base


def cents_of(value: float | int | str) -> int:
    """Exact cents of a JSON number or numeric string."""
    return int((Decimal(str(value).strip()) * 100).to_integral_value())
