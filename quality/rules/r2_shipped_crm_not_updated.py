"""R2: ERP shipped for a customer, but the CRM opportunity was not updated since."""

from __future__ import annotations

from sqlalchemy import Connection, and_, exists, func, select

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import dispatch, dispatch_line, opportunity
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, money, open_opportunity
from quality.rules.sqlfn import epoch_day, epoch_ms, local_day_of_ms


class Config(RuleConfig):
    days: int = 3  # dispatch dated on or before date(T) - days


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Dispatches with ``date <= date(T) - 3`` none of whose orders is paired with a won deal, for a
    customer with an open opportunity last modified (calendar day) before the dispatch date.
    Refs: the dispatch, then the most recently modified such opportunity."""
    d, ln, o, p = dispatch.c, dispatch_line.c, opportunity.c, deal_order_pair.c
    stale_opp = and_(open_opportunity(ctx), o.customer_id == d.customer_id, o.modified_at.is_not(None),
                     local_day_of_ms(epoch_ms(o.modified_at), ctx.tz_offset_ms) < epoch_day(d.dispatch_day))
    paired_line = exists().where(ln.dispatch_ref == d.ref, ln.order_ref == p.order_ref)
    ranked = (
        select(d.ref.label("dispatch_ref"), d.customer_id, d.amount_cents, o.ref.label("opp_ref"),
               o.owner_employee_id,
               func.row_number().over(partition_by=d.ref, order_by=(o.modified_at.desc(), o.ref)).label("rn"))
        .join_from(dispatch, opportunity, stale_opp)
        .where(d.customer_id.is_not(None), in_scope(ctx, d.customer_id), d.dispatch_day.is_not(None), d.dispatch_day <= ctx.day_minus(cfg.days),
               ~paired_line)
        .subquery()
    )
    rows = conn.execute(select(ranked).where(ranked.c.rn == 1).order_by(ranked.c.dispatch_ref))
    return [Candidate("R2", "orange", [r.dispatch_ref, r.opp_ref], r.customer_id, money(r.amount_cents),
                      r.owner_employee_id) for r in rows]
