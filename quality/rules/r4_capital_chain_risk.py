"""R4: a late-stage opportunity at a customer that stopped buying and whose credit was downgraded."""

from __future__ import annotations

from sqlalchemy import Connection, case, exists, func, select

from hub_core.schema_unified import credit_rating, opportunity, sales_order
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, money, open_opportunity, orders_by_t


class Config(RuleConfig):
    stages: list[str] = ["proposal", "negotiation"]
    no_order_days: int = 90  # no order dated in (date(T) - days, date(T)]
    min_downgrade_steps: int = 2
    rating_ladder: list[str] = ["AAA", "AA", "A", "BBB", "BB", "B", "C"]  # best first


def _rank(column, ladder: list[str]):
    """Position on the ladder, 1 = best; unknown ratings get NULL (never a downgrade)."""
    return case({name: i + 1 for i, name in enumerate(ladder)}, value=column, else_=None)


def latest_ratings(ctx: RuleContext, ladder: list[str]):
    """Per customer: its latest rating by T (latest ``rated_at``; on a tie, the worse rating)."""
    c = credit_rating.c
    rank = _rank(c.rating, ladder)
    ranked = (
        select(c.customer_id, c.ref, c.rating, c.previous_rating, rank.label("rank"),
               _rank(c.previous_rating, ladder).label("prev_rank"),
               func.row_number().over(partition_by=c.customer_id,
                                      order_by=(c.rated_day.desc(), rank.desc(), c.ref)).label("rn"))
        .where(c.customer_id.is_not(None), in_scope(ctx, c.customer_id), c.rated_day <= ctx.as_of_day)
        .subquery()
    )
    return select(ranked).where(ranked.c.rn == 1).subquery()


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """One per open opportunity at a configured stage whose customer has no recent order and a
    latest rating at least ``min_downgrade_steps`` below its previous rating. Refs: the
    opportunity, then the rating."""
    o, s = opportunity.c, sales_order.c
    latest = latest_ratings(ctx, cfg.rating_ladder)
    recent_order = exists().where(s.customer_id == o.customer_id, orders_by_t(ctx),
                                  s.order_day > ctx.day_minus(cfg.no_order_days))
    rows = conn.execute(
        select(o.ref, o.customer_id, o.amount_cents, o.owner_employee_id, latest.c.ref.label("rating_ref"))
        .join_from(opportunity, latest, latest.c.customer_id == o.customer_id)
        .where(open_opportunity(ctx), in_scope(ctx, o.customer_id), o.stage.in_(cfg.stages), ~recent_order,
               latest.c.rank - latest.c.prev_rank >= cfg.min_downgrade_steps)
        .order_by(o.ref)
    )
    return [Candidate("R4", "red", [r.ref, r.rating_ref], r.customer_id, money(r.amount_cents), r.owner_employee_id)
            for r in rows]
