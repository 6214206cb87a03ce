"""What every rule returns, the context it runs in, and the base of every rule's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

DAY_MS = 86_400_000


class RuleConfig(BaseModel):
    """Thresholds of one rule. A key the model does not declare is an error, never ignored."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


@dataclass(frozen=True)
class RuleContext:
    """The instant a run evaluates "as of" (UTC), its epoch ms, its calendar day in the tenant's
    time zone, that zone's offset (ms), the whole configuration and, in a scoped run, its customers."""

    as_of: datetime
    as_of_ms: int
    as_of_day: date
    tz_offset_ms: int
    config: Any
    scope: Any = None  # a scoped run's table of customer ids (quality/scope.py); None: every customer

    def days_before(self, days: float) -> datetime:
        """The instant ``days`` x 24 h before T."""
        return self.as_of - timedelta(days=days)

    def day_minus(self, days: int) -> date:
        """The calendar day ``date(T) - days``."""
        return self.as_of_day - timedelta(days=days)


@dataclass
class Candidate:
    """One discrepancy found by a rule; ``refs[0]`` is its anchor. The owner is an employee id
    (None: the customer's owner stands in)."""

    rule: str
    severity: str
    refs: list[str]
    customer_id: str | None
    amount_cents: int
    owner_employee_id: str | None
    extra: dict = field(default_factory=dict)

    @property
    def discrepancy_id(self) -> str:
        return f"{self.rule}|{self.refs[0]}"
