"""Building blocks the rules share: the live (as-of T) views of opportunities, activity and orders."""

from __future__ import annotations

from sqlalchemy import and_, or_, select, true

from hub_core.schema_unified import interaction, opportunity, sales_order
from quality.rules.base import RuleContext


def live_opportunity(ctx: RuleContext):
    """Opportunities that exist at T: not deleted in CRM and not created after T."""
    o = opportunity.c
    return and_(o.is_deleted.is_(False), or_(o.created_at.is_(None), o.created_at <= ctx.as_of))


def open_opportunity(ctx: RuleContext):
    """Open (sales status in progress) opportunities that exist at T."""
    return and_(live_opportunity(ctx), opportunity.c.status == "open")


def activity_by_t(ctx: RuleContext, channels: tuple[str, ...] | None = None):
    """Interactions of a known customer timed by T (optionally only some channels)."""
    i = interaction.c
    cond = and_(i.customer_id.is_not(None), i.occurred_at.is_not(None), i.occurred_at <= ctx.as_of)
    return and_(cond, i.channel.in_(channels)) if channels else cond


def orders_by_t(ctx: RuleContext):
    """U8 orders (every state) dated by T."""
    s = sales_order.c
    return and_(s.order_day.is_not(None), s.order_day <= ctx.as_of_day)


def money(cents) -> int:
    return int(cents or 0)


def in_scope(ctx: RuleContext, column):
    """A rule's condition on its finding's customer: every customer in a full run; in a scoped
    run (quality/scope.py) the scope's customers, and findings without a customer (always
    evaluated). Each rule applies it to the column its findings take their customer from."""
    return of_scope(column, ctx.scope)


def of_scope(column, scope):
    """``column`` (a customer id) is None or in ``scope``'s customers (a scoped reconcile's
    table); anything with no scope (a full run). The rules' finders and the persister's unseen
    items read the same condition."""
    if scope is None:
        return true()
    return or_(column.is_(None), column.in_(select(scope.c.customer_id)))
