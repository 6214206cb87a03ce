"""Pair won CRM deals with U8 sales orders (business-rules.md, "Pairing CRM deals with ERP orders").

Greedy and order-dependent by definition, so it runs as one pass over deals and orders
streamed together in customer order: memory holds one customer's deals and orders at a time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import groupby

from sqlalchemy import Connection, DateTime, delete, literal, null, select, union_all

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import opportunity, sales_order
from mappings.staging import insert_batched


def _candidates(as_of: datetime, as_of_day: date):
    o, s = opportunity.c, sales_order.c
    deals = select(o.customer_id, literal("D").label("kind"), o.ref, o.ref.label("tie"), o.amount_cents,
                   o.close_at.label("close_at"), o.close_day.label("day")).where(
        o.status == "won", o.is_deleted.is_(False), o.customer_id.is_not(None),
        o.close_at.is_not(None), o.close_at <= as_of, o.close_day.is_not(None))
    orders = select(s.customer_id, literal("O").label("kind"), s.ref, s.code.label("tie"), s.amount_cents,
                    null().cast(DateTime(timezone=True)).label("close_at"), s.order_day.label("day")).where(
        s.customer_id.is_not(None), s.order_day.is_not(None), s.order_day <= as_of_day)
    both = union_all(deals, orders).subquery()
    # Only grouping relies on the database's order, so its collation does not matter.
    return select(both).order_by(both.c.customer_id).execution_options(yield_per=2000)


def _pair_one_customer(customer_id: str, rows, window: timedelta):
    deals = sorted((r for r in rows if r.kind == "D"), key=lambda r: (_utc(r.close_at), r.tie))
    free = [r for r in rows if r.kind == "O"]
    for deal in deals:
        earliest = deal.day - window
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


def _utc(moment: datetime) -> datetime:
    """SQLite hands instants back naive (they are stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def pair_deals(conn: Connection, as_of: datetime, as_of_day: date, window_days: int) -> int:
    """Rebuild ``deal_order_pair`` as of the given instant; returns the number of pairs."""
    conn.execute(delete(deal_order_pair))
    window = timedelta(days=window_days)
    rows = conn.execute(_candidates(as_of, as_of_day))

    def pairs():
        for cid, group in groupby(rows, key=lambda r: r.customer_id):
            yield from _pair_one_customer(cid, list(group), window)

    return insert_batched(conn, deal_order_pair, pairs())
