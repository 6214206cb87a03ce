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

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union,
    union_all,
)

from hub_core.schema import deal_order_pair
from hub_core.schema_unified import dispatch, dispatch_line, opportunity, sales_order
from mappings.staging import insert_batched
from quality.rules.sqlfn import epoch_day, epoch_ms


def _candidates(as_of: datetime, as_of_day: date, window_days: int, scope: Table | None = None):
    o, s = opportunity.c, sales_order.c
    won = (o.status == "won", o.is_deleted.is_(False), o.customer_id.is_not(None),
           o.close_at.is_not(None), o.close_at <= as_of, o.close_day.is_not(None))
    if scope is not None:  # a scoped reconcile pairs its customers only (orders join their first deal)
        won = (*won, o.customer_id.in_(select(scope.c.customer_id)))
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


def _scratch_table(conn: Connection) -> Table:
    """A temporary table shaped like ``deal_order_pair`` (no keys, no indexes: a plain heap that
    neither the server's log nor its indexes pay for), dropped by the caller."""
    columns = [Column(c.name, c.type) for c in deal_order_pair.columns]
    scratch = Table("deal_order_pair_new", MetaData(), *columns, prefixes=["TEMPORARY"])
    scratch.drop(conn, checkfirst=True)
    scratch.create(conn)
    return scratch


def pair_deals(conn: Connection, as_of: datetime, as_of_day: date, window_days: int,
               scope: Table | None = None) -> int:
    """Bring ``deal_order_pair`` to the pairing as of the given instant; returns the number of pairs.

    With ``scope`` (a scoped reconcile's customers, quality/scope.py) only those customers are
    paired again and only their stored pairs compared: the pairing is per customer, and no other
    customer's deals or orders changed nor crossed a bound. The customers of dispatches whose
    lines name an order whose pair changed join ``scope`` (R2 reads the pairs through the lines).

    The pairs are streamed into a temporary table and only the difference is written: a pair no
    longer made (or made differently) is deleted, a new one inserted. Between two runs an hour
    apart almost every pair is the same, and rewriting all of them (10.9k rows and their two
    unique indexes at 10k customers) cost ~0.15-0.25 s of the server's time per reconcile."""
    rows = conn.execute(_candidates(as_of, as_of_day, window_days, scope))

    def pairs():
        for cid, group in groupby(rows, key=lambda r: r.customer_id):
            yield from _pair_one_customer(cid, list(group), window_days)

    scratch = _scratch_table(conn)
    try:
        made = insert_batched(conn, scratch, pairs())
        p, n = deal_order_pair.c, scratch.c
        same = and_(n.opp_ref == p.opp_ref, n.order_ref == p.order_ref, n.customer_id == p.customer_id,
                    n.diff_cents == p.diff_cents)
        mine = true() if scope is None else p.customer_id.in_(select(scope.c.customer_id))
        if scope is not None:
            _lines_of_changed_pairs(conn, scope, scratch, same, mine)
        conn.execute(delete(deal_order_pair).where(mine, ~exists().where(same)))
        # what is left of the stored pairs equals a new pair: insert the others (an order is in at
        # most one new pair, so no order_ref can clash with a kept one)
        conn.execute(insert(deal_order_pair).from_select(
            [c.name for c in scratch.columns],
            select(*scratch.columns).where(~exists().where(p.opp_ref == n.opp_ref))))
    finally:
        scratch.drop(conn)
    if scope is not None:
        return conn.execute(select(func.count()).select_from(deal_order_pair)).scalar_one()
    return made


def _lines_of_changed_pairs(conn: Connection, scope: Table, scratch: Table, same, mine) -> None:
    """Add to ``scope`` the customers of dispatches with a line naming an order of a pair about
    to be removed or made (R2: a dispatch none of whose orders is paired)."""
    p, n, ln, d = deal_order_pair.c, scratch.c, dispatch_line.c, dispatch.c
    changed = union(select(p.order_ref).where(mine, ~exists().where(same)),
                    select(n.order_ref).where(~exists().where(same))).subquery()
    customers = (select(d.customer_id).join_from(dispatch_line, dispatch, d.ref == ln.dispatch_ref)
                 .where(ln.order_ref.in_(select(changed.c[0])), d.customer_id.is_not(None))
                 .where(d.customer_id.not_in(select(scope.c.customer_id))).distinct())
    conn.execute(insert(scope).from_select(["customer_id"], customers))
