"""The generator's tunable shares and switches (defaults give a realistic mid-size tenant)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Knobs:
    months: int = 18  # history before now
    reps: int | None = None  # sales reps; None: customers // 6 within 8..15
    # Where companies exist: CRM only (prospects), U8+finance only (pre-CRM customers).
    crm_only_share: float = 0.05
    erp_only_share: float = 0.03
    no_finance_share: float = 0.15  # of the companies in U8
    # Duplicate records of one company (a second CRM account / a second U8 customer).
    crm_duplicate_share: float = 0.02
    u8_duplicate_share: float = 0.04
    # Credit code quality per system: missing / mistyped (invalid check) / sloppily written.
    crm_code_missing: float = 0.25
    crm_code_typo: float = 0.04
    u8_code_missing: float = 0.15
    u8_code_typo: float = 0.04
    finance_code_missing: float = 0.06
    sloppy_code: float = 0.05
    # Share of legal-name spellings per system (the rest are variants of the same name).
    crm_legal_name: float = 0.85
    u8_legal_name: float = 0.8
    finance_legal_name: float = 0.8
    # R1: share of won opportunities (closed >= 2 days ago) planted without a U8 order.
    r1_share: float = 0.11
    # Plant the tricky cases (edges and negatives) described in truth.py / the README.
    tricky: bool = True
    wecom_contact_share: float = 0.7  # CRM contacts also added on WeCom
