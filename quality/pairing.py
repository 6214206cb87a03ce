"""Pair won CRM deals with U8 sales orders (business-rules.md, "Pairing CRM deals with ERP orders").

Greedy and order-dependent by definition, so it runs as one merge over two customer-ordered
streams: memory holds one customer's deals and orders at a time.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby
from typing import Iterator

from sqlalchemy import Connection, delete, select

from hub_core.schema import deal_order_pair, stg_opportunity, stg_sales_order
from mappings.staging import insert_batched


def _by_customer(rows) -> Iterator[tuple[str, list]]:
    for cid, group in groupby(rows, key=lambda r: r.customer_id):
        yield cid, list(group)


def pair_deals(conn: Connection, as_of_ms: int, as_of_day: date, window_days: int) -> int:
    """Rebuild ``deal_order_pair`` as of the given instant; returns the number of pairs."""
    conn.execute(delete(deal_order_pair))
    o = stg_opportunity.c
    deals = conn.execution_options(yield_per=2000).execute(
        select(o.ref, o.customer_id, o.amount_cents, o.close_ms, o.close_day)
        .where(o.status == "won", o.is_deleted.is_(False), o.customer_id.is_not(None),
               o.close_ms.is_not(None), o.close_ms <= as_of_ms)
        .order_by(o.customer_id, o.close_ms, o.opp_id)
    )
    s = stg_sales_order.c
    orders = conn.execution_options(yield_per=2000).execute(
        select(s.ref, s.code, s.customer_id, s.amount_cents, s.order_day)
        .where(s.customer_id.is_not(None), s.order_day.is_not(None), s.order_day <= as_of_day)
        .order_by(s.customer_id, s.order_day, s.code)
    )
    order_groups = _by_customer(orders)
    current = next(order_groups, None)

    def pairs():
        nonlocal current
        window = timedelta(days=window_days)
        for cid, group in _by_customer(deals):
            while current is not None and current[0] < cid:
                current = next(order_groups, None)
            if current is None or current[0] != cid:
                continue
            free = list(current[1])
            for deal in group:
                earliest = deal.close_day - window
                best = None
                for order in free:
                    if order.order_day < earliest:
                        continue
                    rank = (abs((order.amount_cents or 0) - (deal.amount_cents or 0)), order.order_day, order.code)
                    if best is None or rank < best[0]:
                        best = (rank, order)
                if best is not None:
                    free.remove(best[1])
                    yield {"opp_ref": deal.ref, "order_ref": best[1].ref, "customer_id": cid,
                           "diff_cents": (best[1].amount_cents or 0) - (deal.amount_cents or 0)}

    return insert_batched(conn, deal_order_pair, pairs())
