"""R9: a customer's receipts exceed what it was invoiced."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, func, literal, select, union_all

from hub_core.schema_unified import invoice, receipt
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, money


class Config(RuleConfig):
    tolerance_cny: Decimal = Decimal("1.00")  # receipts - invoices > this


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """One per customer whose receipts (all time up to T) exceed its invoices by more than 1.00.
    Anchor: its latest receipt (by date, then the highest code); amount: the excess."""
    r, v = receipt.c, invoice.c
    money_in = union_all(
        select(r.customer_id, r.amount_cents.label("cents")).where(r.customer_id.is_not(None), in_scope(ctx, r.customer_id),
                                                                   r.receipt_day <= ctx.as_of_day),
        select(v.customer_id, (literal(0) - v.amount_cents).label("cents")).where(v.customer_id.is_not(None), in_scope(ctx, v.customer_id),
                                                                                  v.invoice_day <= ctx.as_of_day),
    ).subquery()
    excess = (select(money_in.c.customer_id, func.sum(money_in.c.cents).label("excess"))
              .group_by(money_in.c.customer_id)
              .having(func.sum(money_in.c.cents) > int(cfg.tolerance_cny * 100)).subquery())
    latest = (select(r.customer_id, r.ref,
                     func.row_number().over(partition_by=r.customer_id,
                                            order_by=(r.receipt_day.desc(), r.code.desc())).label("rn"))
              .where(r.customer_id.is_not(None), in_scope(ctx, r.customer_id), r.receipt_day <= ctx.as_of_day)
              .subquery())
    rows = conn.execute(
        select(excess.c.customer_id, excess.c.excess, latest.c.ref)
        .join_from(excess, latest, latest.c.customer_id == excess.c.customer_id)
        .where(latest.c.rn == 1).order_by(latest.c.ref)
    )
    return [Candidate("R9", "orange", [x.ref], x.customer_id, money(x.excess), None) for x in rows]
