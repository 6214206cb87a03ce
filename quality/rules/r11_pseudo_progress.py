"""R11: an opportunity's stage moved forward with no interaction, document or order activity before it."""

from __future__ import annotations

from sqlalchemy import Connection, and_, exists, select

from hub_core.schema_unified import dispatch, interaction, opportunity, sales_order
from quality.rules.base import DAY_MS, Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, money, open_opportunity
from quality.rules.sqlfn import epoch_day, epoch_ms, local_day_of_ms


class Config(RuleConfig):
    recent_days: float = 14  # stage changed in (T - days, T]
    quiet_days: int = 14  # nothing in [S - days, S) nor orders/dispatches in [date(S) - days, date(S)]


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Open opportunities whose stage changed (S) in the recent window with no activity of the
    customer timed in ``[S - 14 d, S)`` and no order or dispatch dated in ``[date(S) - 14, date(S)]``."""
    o, i, s, d = opportunity.c, interaction.c, sales_order.c, dispatch.c
    s_ms = epoch_ms(o.stage_changed_at)
    s_day = local_day_of_ms(s_ms, ctx.tz_offset_ms)
    quiet_ms = cfg.quiet_days * DAY_MS
    talked = exists().where(i.customer_id == o.customer_id, i.occurred_at.is_not(None),
                            epoch_ms(i.occurred_at) >= s_ms - quiet_ms, epoch_ms(i.occurred_at) < s_ms)
    ordered = exists().where(s.customer_id == o.customer_id, s.order_day.is_not(None),
                             epoch_day(s.order_day) >= s_day - cfg.quiet_days, epoch_day(s.order_day) <= s_day)
    shipped = exists().where(d.customer_id == o.customer_id, d.dispatch_day.is_not(None),
                             epoch_day(d.dispatch_day) >= s_day - cfg.quiet_days, epoch_day(d.dispatch_day) <= s_day)
    rows = conn.execute(
        select(o.ref, o.customer_id, o.amount_cents, o.owner_employee_id)
        .where(open_opportunity(ctx), in_scope(ctx, o.customer_id), o.stage_changed_at.is_not(None),
               and_(o.stage_changed_at > ctx.days_before(cfg.recent_days), o.stage_changed_at <= ctx.as_of),
               ~talked, ~ordered, ~shipped)
        .order_by(o.ref)
    )
    return [Candidate("R11", "yellow", [r.ref], r.customer_id, money(r.amount_cents), r.owner_employee_id)
            for r in rows]
