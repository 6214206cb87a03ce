"""R7: an open opportunity with no update and no customer interaction for too long."""

from __future__ import annotations

from sqlalchemy import Connection, and_, case, func, or_, select

from hub_core.schema_unified import interaction, opportunity
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import activity_by_t, in_scope, money, open_opportunity
from quality.rules.sqlfn import epoch_ms


class Config(RuleConfig):
    yellow_hours: float = 48  # strict: age > 48 h
    orange_hours: float = 72
    red_days: float = 5


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Open opportunities whose latest activity (own ``last_modified_time`` by T, or any activity of
    the customer by T) is older than the yellow threshold; severity by age."""
    o, i = opportunity.c, interaction.c
    last_act = (select(i.customer_id, func.max(i.occurred_at).label("at"))
                .where(activity_by_t(ctx), in_scope(ctx, i.customer_id)).group_by(i.customer_id).subquery())
    act_ms = epoch_ms(last_act.c.at)
    own = case((and_(o.modified_at.is_not(None), o.modified_at <= ctx.as_of), epoch_ms(o.modified_at)), else_=None)
    # The latest of the two (NULL when neither exists: never active counts as oldest).
    latest = case((last_act.c.at.is_(None), own), (own.is_(None), act_ms), (own > act_ms, own), else_=act_ms)
    age = ctx.as_of_ms - latest
    hour = 3_600_000
    yellow, orange, red = (int(cfg.yellow_hours * hour), int(cfg.orange_hours * hour), int(cfg.red_days * 24 * hour))
    severity = case((or_(latest.is_(None), age > red), "red"), (age > orange, "orange"), else_="yellow")
    rows = conn.execute(
        select(o.ref, o.customer_id, o.amount_cents, o.owner_employee_id, severity.label("severity"))
        .join_from(opportunity, last_act, last_act.c.customer_id == o.customer_id, isouter=True)
        .where(open_opportunity(ctx), in_scope(ctx, o.customer_id), or_(latest.is_(None), age > yellow))
        .order_by(o.ref)
    )
    return [Candidate("R7", r.severity, [r.ref], r.customer_id, money(r.amount_cents), r.owner_employee_id)
            for r in rows]
