"""R1: a CRM deal is won but no ERP sales order pairs with it after the grace period."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, exists, select

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import opportunity
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, live_opportunity, money


class Config(RuleConfig):
    grace_days: float = 2
    red_amount_cny: Decimal = Decimal("100000")


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Won opportunities with ``close_date <= T - grace`` and no paired order."""
    o = opportunity.c
    red_cents = int(cfg.red_amount_cny * 100)
    rows = conn.execute(
        select(o.ref, o.customer_id, o.amount_cents, o.owner_employee_id)
        .where(live_opportunity(ctx), in_scope(ctx, o.customer_id), o.status == "won", o.close_at.is_not(None),
               o.close_at <= ctx.days_before(cfg.grace_days),
               ~exists().where(deal_order_pair.c.opp_ref == o.ref))
        .order_by(o.ref)
    )
    return [Candidate("R1", "red" if money(r.amount_cents) >= red_cents else "orange", [r.ref], r.customer_id,
                      money(r.amount_cents), r.owner_employee_id) for r in rows]
