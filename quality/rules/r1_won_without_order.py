"""R1: a CRM deal is won but no ERP sales order pairs with it after the grace period."""

from __future__ import annotations

from sqlalchemy import Connection, exists, select

from hub_core.schema import deal_order_pair, stg_opportunity
from quality.rules.base import Candidate, RuleContext

DAY_MS = 86_400_000


def r1_won_without_order(conn: Connection, ctx: RuleContext) -> list[Candidate]:
    cfg = ctx.config.R1
    o = stg_opportunity.c
    cutoff = ctx.as_of_ms - int(cfg.grace_days * DAY_MS)
    red_cents = int(cfg.red_amount_cny * 100)
    rows = conn.execute(
        select(o.ref, o.customer_id, o.amount_cents, o.owner_employee_id)
        .where(
            o.status == "won", o.is_deleted.is_(False), o.close_ms.is_not(None), o.close_ms <= cutoff,
            ~exists().where(deal_order_pair.c.opp_ref == o.ref),
        )
        .order_by(o.ref)
    )
    return [
        Candidate(
            rule="R1",
            severity="red" if (r.amount_cents or 0) >= red_cents else "orange",
            refs=[r.ref],
            customer_id=r.customer_id,
            amount_cents=r.amount_cents or 0,
            owner_employee_id=r.owner_employee_id,
        )
        for r in rows
    ]
