"""How the report writes amounts and times, made cheaply: every open item shows them in several
files (a 10k-customer world has ~19k items, a 100k one ~150k).

``money`` / ``yuan`` format integer cents with integer arithmetic, the exact text the ``Decimal``
forms wrote (tested against them); a value other than an ``int`` still goes through ``Decimal``.
``seen_text`` / ``seen_local`` are ``iso_local`` / ``local`` remembered per moment: an item's
first-seen time is the as-of of the reconcile that first found it, so a report's thousands of
items share a few dozen moments, and a time-zone conversion costs more than a dict look-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

_MEMO_MAX = 4096  # moments remembered (bounded: a hand-made warehouse may have a moment per item)


@cache
def settings() -> dict:
    """The report's knobs (settings.yaml beside this module)."""
    return yaml.safe_load(Path(__file__).with_name("settings.yaml").read_text(encoding="utf-8"))


def _cents_text(cents: int, thousands: bool) -> str:
    whole, part = divmod(-cents if cents < 0 else cents, 100)
    return f"{'-' if cents < 0 else ''}{whole:,}.{part:02d}" if thousands else \
        f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


def money(cents: int) -> str:
    """Exact CNY amount as a string with two decimals (``1234.50``)."""
    if type(cents) is int:
        return _cents_text(cents, False)
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def yuan(cents: int) -> str:
    """People read 1,234,567.89."""
    if type(cents) is int:
        return _cents_text(cents, True)
    return f"{Decimal(cents) / 100:,.2f}"


def utc(moment: datetime | None) -> datetime | None:
    """An aware UTC time (SQLite hands naive UTC values back)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_local(moment: datetime | None, tz: str = "Asia/Shanghai") -> str | None:
    """ISO text of a moment in the reporting time zone (what the result files carry)."""
    return utc(moment).astimezone(ZoneInfo(tz)).isoformat() if moment else None


def local(moment: datetime | None, tz: str | None = None) -> datetime | None:
    """A moment as local wall-clock time of the reporting zone."""
    return utc(moment).astimezone(ZoneInfo(tz or settings()["timezone"])) if moment else None


def _remembered(compute, doc: str):
    """``compute(moment)`` remembered per moment; at most ``_MEMO_MAX`` moments, then forgotten
    all at once (bounded memory whatever the warehouse holds)."""
    memo: dict = {}

    def lookup(moment: datetime | None):
        value = memo.get(moment)
        if value is None and moment is not None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            value = memo[moment] = compute(moment)
        return value

    lookup.__doc__ = doc
    return lookup


#: ``iso_local(moment)``, remembered (an aware ``moment``: equal instants give equal text)
seen_text = _remembered(iso_local, "``iso_local(moment)``, remembered per moment.")
#: ``local(moment)``, remembered (the zone is read from settings once per moment)
seen_local = _remembered(local, "``local(moment)``, remembered per moment.")
