"""R3: a won opportunity's amount differs from its paired ERP order beyond the tolerance."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Connection, and_, case, func, select

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import opportunity
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, live_opportunity, money


class Config(RuleConfig):
    tolerance_ratio: Decimal = Decimal("0.005")  # |diff| > max(ratio x amount, tolerance_cny)
    tolerance_cny: Decimal = Decimal("1.00")
    red_ratio: Decimal = Decimal("0.10")  # red when |diff| > ratio x amount


def _over(diff, amount, ratio: Decimal):
    """``diff > ratio x amount`` exactly, in integers: diff x q > p x amount for ratio = p/q."""
    frac = Fraction(ratio)
    return diff * frac.denominator > amount * frac.numerator


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Pairs whose ``|order.sum - opp.amount| > max(0.005 x opp.amount, 1.00)``; refs: opp, order."""
    o, p = opportunity.c, deal_order_pair.c
    diff = func.abs(p.diff_cents)
    amount = func.coalesce(o.amount_cents, 0)
    tol_cents = int(cfg.tolerance_cny * 100)
    rows = conn.execute(
        select(o.ref, p.order_ref, o.customer_id, o.owner_employee_id, diff.label("diff"),
               case((_over(diff, amount, cfg.red_ratio), "red"), else_="orange").label("severity"))
        .join_from(deal_order_pair, opportunity, o.ref == p.opp_ref)
        .where(live_opportunity(ctx), in_scope(ctx, o.customer_id), and_(_over(diff, amount, cfg.tolerance_ratio), diff > tol_cents))
        .order_by(o.ref)
    )
    return [Candidate("R3", r.severity, [r.ref, r.order_ref], r.customer_id, money(r.diff), r.owner_employee_id)
            for r in rows]
