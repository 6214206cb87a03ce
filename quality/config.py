"""Rule configuration: thresholds per rule, loaded from YAML and validated strictly.

The model is derived from the rule registry: ``rules.<id>`` takes that rule's own config model, so
a misspelled rule id or threshold key is an error naming the key, never silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from hub_core.settings import DEFAULT_MAX_DROP, DEFAULT_TIMEZONE
from quality.registry import RULES

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairingConfig(_Strict):
    """Deal/order pairing (R1, R2, R3): an order pairs when dated >= date(close) - window."""

    order_window_days: int = 7


class StalenessConfig(_Strict):
    """Stale-source protection: a source whose current raw rows drop by more than ``max_drop``
    against the count at its last good check, or whose last sync failed, is stale."""

    max_drop: float = Field(DEFAULT_MAX_DROP, gt=0, lt=1)  # also the landing's deletion guard (hub sync/run)
    min_baseline_rows: int = Field(1, ge=1)  # streams smaller than this at the last good check are not judged


RuleSet = create_model(
    "RuleSet", __config__=ConfigDict(extra="forbid"),
    **{spec.id: (spec.config, spec.config()) for spec in RULES},
)


class RulesConfig(_Strict):
    """The whole rules file."""

    pairing: PairingConfig = PairingConfig()
    staleness: StalenessConfig = StalenessConfig()
    timezone: str = DEFAULT_TIMEZONE
    rules: RuleSet = RuleSet()  # type: ignore[valid-type]

    def rule(self, rule_id: str):
        """The configuration of one rule."""
        return getattr(self.rules, rule_id)

    def enabled(self) -> list[str]:
        """Ids of the enabled rules, in registry order."""
        return [spec.id for spec in RULES if self.rule(spec.id).enabled]


def load_rules(path: Path | str | None = None) -> RulesConfig:
    """Load the rules file (default: ``HUB_RULES_FILE`` or the shipped defaults); a bad key or
    value raises ``ValueError`` with one line per problem."""
    path = Path(path or os.environ.get("HUB_RULES_FILE") or DEFAULT_RULES_FILE)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: {problems}") from None
