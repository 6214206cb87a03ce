"""The one registry of consistency rules: each rule is declared once, here.

Everything else derives from it: the configuration model (``quality.config``), which rules run,
the titles reports print, and which sources a rule depends on (stale-source protection holds a
rule back when one of them is stale). ``tests/quality/test_rules_registry.py`` keeps this list,
``default_rules.yaml`` and ``docs/rules.md`` in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from quality.rules import (
    r1_won_without_order,
    r2_shipped_crm_not_updated,
    r3_amount_mismatch,
    r4_capital_chain_risk,
    r5_receivable_overdue,
    r6_master_data_conflict,
    r7_stale_followup,
    r8_dormant_top_customer,
    r9_receipts_exceed_invoices,
    r10_off_channel_selling,
    r11_pseudo_progress,
)
from quality.rules.base import RuleConfig


@dataclass(frozen=True)
class RuleSpec:
    """One rule: id, titles, its configuration model, what its anchor ref names, the systems
    (``crm``, ``u8``, ``finance``, ``wecom``) its result depends on, and its set-based finder."""

    id: str
    title_zh: str
    title_en: str
    config: type[RuleConfig]
    anchor: str
    systems: tuple[str, ...]
    find: Callable
    uses_pairing: bool = False


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("R1", "商机赢单但ERP无销售订单", "Won opportunity without an ERP sales order",
             r1_won_without_order.Config, "crm:NewOpportunityObj", ("crm", "u8"), r1_won_without_order.find, True),
    RuleSpec("R2", "ERP已发货但CRM商机未更新", "Shipped in ERP but the CRM opportunity not updated",
             r2_shipped_crm_not_updated.Config, "u8:consignmentlist", ("crm", "u8"),
             r2_shipped_crm_not_updated.find, True),
    RuleSpec("R3", "合同/商机金额与ERP订单金额不一致", "CRM amount differs from the ERP order amount",
             r3_amount_mismatch.Config, "crm:NewOpportunityObj", ("crm", "u8"), r3_amount_mismatch.find, True),
    RuleSpec("R4", "资金链风险：暂停跟进，复核信用", "Capital-chain risk: suspend pursuit, review credit",
             r4_capital_chain_risk.Config, "crm:NewOpportunityObj", ("crm", "u8", "finance"),
             r4_capital_chain_risk.find),
    RuleSpec("R5", "应收账款超出信用期", "Receivable overdue past the credit terms",
             r5_receivable_overdue.Config, "u8:oughtreceivelist", ("u8",), r5_receivable_overdue.find),
    RuleSpec("R6", "客户主数据冲突", "Customer master-data conflict",
             r6_master_data_conflict.Config, "crm:AccountObj|u8:customer|finance:credit_rating",
             ("crm", "u8", "finance"), r6_master_data_conflict.find),
    RuleSpec("R7", "商机跟进停滞", "Stale follow-up on an open opportunity",
             r7_stale_followup.Config, "crm:NewOpportunityObj", ("crm", "wecom"), r7_stale_followup.find),
    RuleSpec("R8", "重点客户沉睡", "Dormant top customer",
             r8_dormant_top_customer.Config, "crm:AccountObj", ("crm", "u8"), r8_dormant_top_customer.find),
    RuleSpec("R9", "回款与发票不符", "Receipts exceed invoices",
             r9_receipts_exceed_invoices.Config, "u8:acceptlist", ("u8",), r9_receipts_exceed_invoices.find),
    RuleSpec("R10", "疑似私域成交（无企微沟通记录）", "Off-channel selling (no WeCom conversation)",
             r10_off_channel_selling.Config, "crm:AccountObj", ("crm", "wecom"), r10_off_channel_selling.find),
    RuleSpec("R11", "商机阶段虚假推进", "Pseudo-progress: stage moved without activity",
             r11_pseudo_progress.Config, "crm:NewOpportunityObj", ("crm", "wecom", "u8"), r11_pseudo_progress.find),
)

BY_ID: dict[str, RuleSpec] = {spec.id: spec for spec in RULES}


def rule(rule_id: str) -> RuleSpec:
    """The rule with this id; a clear error for an unknown one."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise ValueError(f"unknown rule {rule_id!r}; known rules: {', '.join(BY_ID)}") from None


def titles(lang: str = "zh") -> dict[str, str]:
    """Report titles per rule id (``zh`` or ``en``)."""
    return {s.id: (s.title_zh if lang == "zh" else s.title_en) for s in RULES}
