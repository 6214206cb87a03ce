"""R8: a top (S/A) customer with no ERP order for about 11 months."""

from __future__ import annotations

from sqlalchemy import Connection, exists, or_, select

from hub_core.schema_unified import account_profile, sales_order
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, orders_by_t


class Config(RuleConfig):
    levels: list[str] = ["S", "A"]
    no_order_days: int = 330  # no order dated in (date(T) - days, date(T)]


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """CRM accounts graded S/A (not deleted) whose customer has no order in the last 330 days."""
    a, s = account_profile.c, sales_order.c
    recent = exists().where(s.customer_id == a.customer_id, orders_by_t(ctx),
                            s.order_day > ctx.day_minus(cfg.no_order_days))
    rows = conn.execute(
        select(a.ref, a.customer_id, a.owner_employee_id)
        .where(a.is_deleted.is_(False), in_scope(ctx, a.customer_id), or_(a.created_at.is_(None), a.created_at <= ctx.as_of),
               a.account_level.in_(cfg.levels), ~recent)
        .order_by(a.ref)
    )
    return [Candidate("R8", "orange", [r.ref], r.customer_id, 0, r.owner_employee_id) for r in rows]
