"""The generator's tunable shares and switches (defaults give a realistic mid-size tenant)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Hard identity cases (see identity.py): share of the world's companies planted per kind, and
# the share of cases that keep evidence a careful matcher can use (a shared phone, address,
# contact mobile or credit code). ``hard`` plants more of them and strips evidence more often.
IDENTITY_PRESETS: dict[str, dict[str, float]] = {
    "default": {"renamed": 0.01, "same_brand_other_city": 0.01, "branch": 0.01, "typo": 0.015,
                "traditional": 0.01, "legal_form": 0.01, "province_city_prefix": 0.01,
                "abbreviation": 0.01, "shared_switchboard": 0.01, "evidence": 0.85,
                "code_typo": 0.04},
    "hard": {"renamed": 0.03, "same_brand_other_city": 0.04, "branch": 0.03, "typo": 0.05,
             "traditional": 0.03, "legal_form": 0.03, "province_city_prefix": 0.03,
             "abbreviation": 0.04, "shared_switchboard": 0.03, "evidence": 0.45,
             "code_typo": 0.1},
}
DIFFICULTIES = tuple(IDENTITY_PRESETS)


@dataclass(frozen=True)
class Knobs:
    months: int = 18  # history before now
    reps: int | None = None  # sales reps; None: people.default_reps (8..15, up to 200 at scale)
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
    # Plant every rule R2-R11 with near-miss controls (plant_rules.py, plant_quiet.py).
    plant_rules: bool = True
    wecom_contact_share: float = 0.7  # CRM contacts also added on WeCom
    difficulty: str = "default"  # identity cases: default | hard (IDENTITY_PRESETS)
    identity: dict[str, float] | None = field(default=None, hash=False)  # overrides the preset
    repeat_orders: float = 1.0  # scales the repeat business keyed straight into U8

    def identity_share(self, kind: str) -> float:
        """The share for ``kind`` under this difficulty (an explicit override wins)."""
        if self.difficulty not in IDENTITY_PRESETS:
            raise ValueError(f"unknown difficulty {self.difficulty!r}; use one of {', '.join(DIFFICULTIES)}")
        if self.identity and kind in self.identity:
            return self.identity[kind]
        return IDENTITY_PRESETS[self.difficulty][kind]
