"""Rule configuration: thresholds per rule, loaded from YAML."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel

from hub_core.settings import DEFAULT_TIMEZONE

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.yaml")


class PairingConfig(BaseModel):
    order_window_days: int = 7


class R1Config(BaseModel):
    enabled: bool = True
    grace_days: float = 2
    red_amount_cny: Decimal = Decimal("100000")


class RulesConfig(BaseModel):
    pairing: PairingConfig = PairingConfig()
    R1: R1Config = R1Config()
    timezone: str = DEFAULT_TIMEZONE


def load_rules(path: Path | str | None = None) -> RulesConfig:
    """Load the rules file (default: ``HUB_RULES_FILE`` or the shipped defaults)."""
    path = Path(path or os.environ.get("HUB_RULES_FILE") or DEFAULT_RULES_FILE)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return RulesConfig(pairing=data.get("pairing", {}), **data.get("rules", {}))
