"""The world's clock: Asia/Shanghai instants, epoch-ms and the native date/time strings."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

# A fixed offset instead of zoneinfo: China has had no daylight saving since 1991, and this
# keeps the generator free of any tzdata dependency (same bytes on every machine).
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def parse_instant(text: str) -> datetime:
    """An ISO date-time; naive values are Asia/Shanghai."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI)


def day_of(ms: int) -> date:
    """The Asia/Shanghai calendar date of an instant."""
    return local(ms).date()


def midnight_ms(day: date) -> int:
    """00:00 Asia/Shanghai of a calendar date, as CRM date fields store it."""
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=SHANGHAI))


def date_text(day: date) -> str:
    return day.isoformat()


def time_text(ms: int) -> str:
    """U8 system time: ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai."""
    return local(ms).strftime("%Y-%m-%d %H:%M:%S")


class Clock:
    """``now`` plus the window the world's history lives in (``months`` before now)."""

    def __init__(self, now: str, months: int = 18) -> None:
        self.now_text = now
        self.now_ms = to_ms(parse_instant(now))
        self.today = day_of(self.now_ms)
        self.start = self.today - timedelta(days=months * 30)

    def work_time(self, rng: random.Random, day: date) -> int:
        """An instant during office hours (08:30-19:30) of ``day``, never after now."""
        ms = midnight_ms(day) + rng.randint(8 * 60 + 30, 19 * 60 + 30) * 60_000
        ms += rng.randint(0, 59_999)
        return min(ms, self.now_ms - rng.randint(60_000, 3 * HOUR_MS))

    def day_between(self, rng: random.Random, first: date, last: date) -> date:
        """A uniformly drawn date in [first, last] (``first`` when the range is empty)."""
        span = (last - first).days
        return first + timedelta(days=rng.randint(0, span)) if span > 0 else first
