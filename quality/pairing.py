"""Pair won CRM deals with U8 sales orders (business-rules.md, "Pairing CRM deals with ERP orders").

Greedy and order-dependent by definition, so it runs as one pass over deals and orders
streamed together in customer order: memory holds one customer's deals and orders at a time.
Only orders that could pair at all are read (customers with a won deal, dated no earlier than
their first close minus the window), and days / instants travel as integers (day numbers, epoch
ms) so that a million orders stream without date parsing.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby

from sqlalchemy import BigInteger, Connection, delete, func, literal, null, select, union_all

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import opportunity, sales_order
from mappings.staging import insert_batched
from quality.rules.sqlfn import epoch_day, epoch_ms


def _candidates(as_of: datetime, as_of_day: date, window_days: int):
    o, s = opportunity.c, sales_order.c
    won = (o.status == "won", o.is_deleted.is_(False), o.customer_id.is_not(None),
           o.close_at.is_not(None), o.close_at <= as_of, o.close_day.is_not(None))
    deals = select(o.customer_id, literal("D").label("kind"), o.ref, o.ref.label("tie"), o.amount_cents,
                   epoch_ms(o.close_at).label("close_ms"), epoch_day(o.close_day).label("day")).where(*won)
    first = select(o.customer_id, func.min(o.close_day).label("first_day")).where(*won).group_by(o.customer_id)
    first = first.subquery()
    orders = (select(s.customer_id, literal("O").label("kind"), s.ref, s.code.label("tie"), s.amount_cents,
                     null().cast(BigInteger).label("close_ms"), epoch_day(s.order_day).label("day"))
              .join(first, first.c.customer_id == s.customer_id)
              .where(s.order_day.is_not(None), s.order_day <= as_of_day,
                     epoch_day(s.order_day) >= epoch_day(first.c.first_day) - window_days))
    both = union_all(deals, orders).subquery()
    # Only grouping relies on the database's order, so its collation does not matter.
    return select(both).order_by(both.c.customer_id).execution_options(yield_per=5000)


def _pair_one_customer(customer_id: str, rows, window_days: int):
    deals = sorted((r for r in rows if r.kind == "D"), key=lambda r: (r.close_ms, r.tie))
    free = [r for r in rows if r.kind == "O"]
    for deal in deals:
        earliest = deal.day - window_days
        best = None
        for order in free:
            if order.day < earliest:
                continue
            rank = (abs((order.amount_cents or 0) - (deal.amount_cents or 0)), order.day, order.tie)
            if best is None or rank < best[0]:
                best = (rank, order)
        if best is not None:
            free.remove(best[1])
            yield {"opp_ref": deal.ref, "order_ref": best[1].ref, "customer_id": customer_id,
                   "diff_cents": (best[1].amount_cents or 0) - (deal.amount_cents or 0)}


def pair_deals(conn: Connection, as_of: datetime, as_of_day: date, window_days: int) -> int:
    """Rebuild ``deal_order_pair`` as of the given instant; returns the number of pairs."""
    conn.execute(delete(deal_order_pair))
    rows = conn.execute(_candidates(as_of, as_of_day, window_days))

    def pairs():
        for cid, group in groupby(rows, key=lambda r: r.customer_id):
            yield from _pair_one_customer(cid, list(group), window_days)

    return insert_batched(conn, deal_order_pair, pairs())
