from datetime import date

import pytest

from mappings.parse import ms_to_day, to_cents, to_day, to_int


@pytest.mark.parametrize("raw, cents", [
    (1234.5, 123450), ("1234.50", 123450), ("1,234.56", 123456), (0, 0), ("-3.20", -320),
    ("abc", None), (None, None), (True, None), ("1e20", None), ("NaN", None), ("Infinity", None),
])
def test_to_cents(raw, cents):
    assert to_cents(raw) == cents


def test_values_outside_the_calendar_or_bigint_are_none():
    assert ms_to_day(10**17, "Asia/Shanghai") is None
    assert to_int("99999999999999999999") is None
    assert to_int(" 42 ") == 42


def test_dates():
    assert to_day("2026-11-01") == date(2026, 11, 1)
    assert to_day("2026-11-01 08:00:00") == date(2026, 11, 1)
    assert to_day("2026-13-01") is None and to_day(20261101) is None
    assert ms_to_day(1763568000000, "Asia/Shanghai") == date(2025, 11, 20)
