"""R10: a rep closes deals but the customer has no WeCom conversation on record (private WeChat?)."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import Connection, and_, exists, func, select

from hub_core.schema_unified import account_profile, interaction, opportunity
from quality.rules.base import DAY_MS, Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, live_opportunity, money
from quality.rules.sqlfn import epoch_ms


class Config(RuleConfig):
    won_days: float = 30  # won opportunities closed in (T - days, T]
    message_days: float = 30  # no message in [C - days, C], C the latest such close
    channels: list[str] = ["wecom"]


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """One per customer; anchor: its CRM account with the lowest id; amount: the sum of the won
    amounts; refs also those opportunities."""
    o, i, a = opportunity.c, interaction.c, account_profile.c
    won = and_(live_opportunity(ctx), in_scope(ctx, o.customer_id), o.status == "won", o.customer_id.is_not(None), o.close_at.is_not(None),
               o.close_at > ctx.days_before(cfg.won_days), o.close_at <= ctx.as_of)
    per_customer = (select(o.customer_id, func.max(epoch_ms(o.close_at)).label("c_ms"),
                           func.sum(o.amount_cents).label("cents"))
                    .where(won).group_by(o.customer_id).subquery())
    c_ms = per_customer.c.c_ms
    window_ms = int(cfg.message_days * DAY_MS)
    talked = exists().where(i.customer_id == per_customer.c.customer_id, i.channel.in_(cfg.channels),
                            i.occurred_at.is_not(None), epoch_ms(i.occurred_at) >= c_ms - window_ms,
                            epoch_ms(i.occurred_at) <= c_ms)
    account = (select(func.min(a.ref)).where(a.customer_id == per_customer.c.customer_id, a.is_deleted.is_(False))
               .scalar_subquery())
    silent = select(per_customer.c.customer_id, per_customer.c.cents, account.label("account_ref")).where(~talked)
    silent = silent.subquery()
    rows = conn.execute(
        select(silent.c.customer_id, silent.c.cents, silent.c.account_ref, o.ref, o.owner_employee_id)
        .join_from(silent, opportunity, o.customer_id == silent.c.customer_id)
        .where(won).order_by(silent.c.customer_id, o.close_at, o.ref)
    )
    out = []
    for cid, group in groupby(rows, key=lambda r: r.customer_id):
        group = list(group)
        first = group[0]
        opps = [r.ref for r in group]
        anchor = [first.account_ref] if first.account_ref else []
        out.append(Candidate("R10", "yellow", anchor + opps, cid, money(first.cents), group[-1].owner_employee_id))
    return out
