"""The customer_360 configuration (``mappings/customer360.yaml``), validated strictly."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_C360_FILE = Path(__file__).with_name("customer360.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Windows(_Strict):
    revenue_days: int = 365
    interactions_days: int = 30
    signals_days: int = 90


class Parties(_Strict):
    employee_ref: str
    contact_ref: str


class Signals(_Strict):
    decision_maker_titles: list[str]
    decision_maker_text: list[str] = Field(default_factory=list)
    competitor_keywords: list[str]
    tech_keywords: list[str]
    document_keywords: list[str]
    document_msg_types: list[str] = Field(default_factory=list)


class HealthWeights(_Strict):
    recency: float
    documents: float
    decision_makers: float
    competitor: float
    response_speed: float


class Health(_Strict):
    weights: HealthWeights
    recency_zero_after_days: float = 7
    documents_full_at: int = 2
    decision_makers_full_at: int = 2
    response_full_minutes: float = 60
    response_zero_minutes: float = 1440
    response_no_data_score: float = 0.5
    high_intent_at: int = 75


class GradeRule(_Strict):
    grade: str
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)


class Grade(_Strict):
    rules: list[GradeRule]
    default: str = "C"


class C360Config(_Strict):
    windows: Windows = Field(default_factory=Windows)
    completeness_threshold: float = 0.8
    systems: list[str] = Field(default_factory=lambda: ["crm", "u8", "finance", "wecom"])
    interaction_parties: dict[str, Parties] = Field(default_factory=dict)
    signals: Signals
    health: Health
    grade: Grade


def load_c360(path: Path | str | None = None) -> C360Config:
    """Load the customer_360 config (default: ``HUB_C360_FILE`` or the shipped defaults)."""
    path = Path(path or os.environ.get("HUB_C360_FILE") or DEFAULT_C360_FILE)
    return C360Config.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
