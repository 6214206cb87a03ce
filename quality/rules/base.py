"""What every rule returns, and the context it runs in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from quality.config import RulesConfig


@dataclass(frozen=True)
class RuleContext:
    as_of: datetime
    as_of_ms: int
    as_of_day: date
    config: RulesConfig


@dataclass
class Candidate:
    """One discrepancy found by a rule; ``refs[0]`` is its anchor."""

    rule: str
    severity: str
    refs: list[str]
    customer_id: str | None
    amount_cents: int
    owner_employee_id: str | None

    @property
    def discrepancy_id(self) -> str:
        return f"{self.rule}|{self.refs[0]}"
