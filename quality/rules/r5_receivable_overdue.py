"""R5: a receivable is overdue past the customer's credit terms."""

from __future__ import annotations

from sqlalchemy import Connection, case, or_, select

from hub_core.schema_unified import receivable
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope, money


class Config(RuleConfig):
    red_days_past_due: int = 60  # red when date(T) - duedate > this


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """Receivables with ``balance > 0`` and ``duedate < date(T)``; amount: the balance."""
    r = receivable.c
    rows = conn.execute(
        select(r.ref, r.customer_id, r.balance_cents, r.owner_employee_id,
               case((r.due_day < ctx.day_minus(cfg.red_days_past_due), "red"), else_="orange").label("severity"))
        .where(r.balance_cents > 0, in_scope(ctx, r.customer_id), r.due_day < ctx.as_of_day,
               or_(r.receivable_day.is_(None), r.receivable_day <= ctx.as_of_day))
        .order_by(r.ref)
    )
    return [Candidate("R5", x.severity, [x.ref], x.customer_id, money(x.balance_cents), x.owner_employee_id)
            for x in rows]
