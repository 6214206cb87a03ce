"""Customers from the unified model: the scoped listing and the 360 view of one customer.

A customer is ``customer`` (golden fields, kept by entity resolution) with its owner and the
owner's manager from ``employee`` and its figures from ``customer_360``. The 360 view adds, per
source, the newest linked records (bounded) and how many exist. Every query carries the caller's
scope (``hub_api.scope``); a customer outside it answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AwareDatetime
from sqlalchemy import Connection, and_, func, select

from hub_api import paging
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models_customers import (
    RISKS,
    CustomerDetail,
    CustomerPage,
    customer_out,
    figures_out,
    record_out,
)
from hub_api.scope import (
    customer_scope,
    customer_view,
    manager_name,
    owner,
    owner_name,
    owner_region,
)
from hub_core.schema import customer, customer_xref
from hub_core.schema_unified import (
    contact,
    credit_rating,
    customer_360,
    employee,
    interaction,
    invoice,
    opportunity,
    receipt,
    receivable,
    sales_order,
)

router = APIRouter(responses=COMMON_RESPONSES, tags=["customers"])

Text = Annotated[str, Query(min_length=1, max_length=200)]
IdPath = Annotated[str, Path(min_length=1, max_length=500)]

c3 = customer_360.c
RISK_CONDITIONS = {
    "overdue": c3.receivable_overdue_cents > 0,
    "credit_downgrade": c3.credit_rating_change < 0,
    "needs_review": customer.c.needs_review.is_(True),
}
assert tuple(RISK_CONDITIONS) == RISKS

_columns = (customer.c.customer_id, customer.c.name, customer.c.uscc, customer.c.record_count,
            customer.c.needs_review, customer.c.updated_at, owner_name.label("owner"),
            owner_region.label("region"), manager_name.label("manager"), c3.grade, c3.health_score,
            c3.high_intent, *(func.coalesce(cond, False).label(f"risk_{name}") for name, cond in RISK_CONDITIONS.items()))


# The customer_360 columns the 360 view adds (names, owner and grade are in ``_columns`` already).
_figure_columns = tuple(col for col in customer_360.c if col.name not in {
    "customer_id", "name", "owner_employee_id", "owner_name", "manager_employee_id", "manager_name", "region",
    "grade", "health_score", "high_intent", "build_id"})


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    who: Annotated[Principal, Depends(require("customers:read"))],
    conn: Conn,
    region: Annotated[str | None, Query(min_length=1, max_length=200, description="Owner's region.")] = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=200, description="Owner's name.")] = None,
    grade: Annotated[list[Literal["S", "A", "B", "C"]] | None, Query(description="Dynamic grade, any of.")] = None,
    risk: Annotated[list[Literal[RISKS]] | None,  # type: ignore[valid-type]
                    Query(description="Risk flags, all of: overdue (a receivable past due), credit_downgrade "
                                      "(latest rating below the previous), needs_review (a match awaits IT).")] = None,
    updated_since: Annotated[AwareDatetime | None,
                             Query(description="Only customers whose golden fields changed at or after then.")] = None,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> dict:
    """Customers in the caller's scope, ordered by id, with owner and manager by name and region."""
    where = [customer_scope(who)]
    if region is not None:
        where.append(owner_region == region)
    if owner is not None:
        where.append(owner_name == owner)
    if grade:
        where.append(c3.grade.in_(grade))
    for name in risk or ():
        where.append(RISK_CONDITIONS[name])
    if updated_since is not None:
        where.append(customer.c.updated_at >= updated_since)
    count = select(func.count()).select_from(customer_view).where(*where)
    if cursor is not None:
        [after] = paging.decode("customers", cursor, [str])
        where.append(customer.c.customer_id > after)
    query = select(*_columns).select_from(customer_view).where(*where).order_by(customer.c.customer_id)
    rows = conn.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [customer_out(r) for r in rows], "total": conn.execute(count).scalar_one(),
            "next_cursor": paging.encode("customers", [rows[-1].customer_id]) if more else None}


def _linked_queries(customer_id: str):
    """name -> (query of the newest linked rows, condition counted for the total), per source."""
    rep = employee.alias("rep")
    o, s, i, r, p, cr, x, ct, it = (opportunity.c, sales_order.c, invoice.c, receivable.c, receipt.c,
                                    credit_rating.c, customer_xref.c, contact.c, interaction.c)
    return {
        "refs": (select(x.ref, x.system, x.match_method, x.decided_by).order_by(x.system, x.ref),
                 customer_xref, x.customer_id == customer_id),
        "contacts": (select(ct.ref, ct.system, ct.name, ct.job_title, ct.mobile, ct.email, ct.is_decision_maker)
                     .where(ct.is_deleted.is_(False)).order_by(ct.created_at.desc().nulls_last(), ct.ref),
                     contact, and_(ct.customer_id == customer_id, ct.is_deleted.is_(False))),
        "opportunities": (select(o.ref, o.name, o.amount_cents, o.stage, o.status, o.close_day, o.modified_at,
                                 owner.c.name.label("owner"))
                          .select_from(opportunity.outerjoin(owner, owner.c.employee_id == o.owner_employee_id))
                          .where(o.is_deleted.is_(False)).order_by(o.modified_at.desc().nulls_last(), o.ref),
                          opportunity, and_(o.customer_id == customer_id, o.is_deleted.is_(False))),
        "orders": (select(s.ref, s.code, s.order_day, s.state, s.amount_cents, s.ship_status)
                   .order_by(s.order_day.desc().nulls_last(), s.ref), sales_order, s.customer_id == customer_id),
        "invoices": (select(i.ref, i.number, i.invoice_day, i.amount_cents)
                     .order_by(i.invoice_day.desc().nulls_last(), i.ref), invoice, i.customer_id == customer_id),
        "receivables": (select(r.ref, r.code, r.receivable_day, r.due_day, r.amount_cents, r.balance_cents)
                        .order_by(r.due_day.desc().nulls_last(), r.ref), receivable, r.customer_id == customer_id),
        "receipts": (select(p.ref, p.code, p.receipt_day, p.amount_cents)
                     .order_by(p.receipt_day.desc().nulls_last(), p.ref), receipt, p.customer_id == customer_id),
        "credit_ratings": (select(cr.ref, cr.rated_day, cr.rating, cr.previous_rating, cr.notch_change,
                                  cr.credit_limit_cents, cr.credit_days, cr.is_current)
                           .order_by(cr.rated_day.desc(), cr.ref), credit_rating, cr.customer_id == customer_id),
        "interactions": (select(it.ref, it.channel, it.direction, it.occurred_at, it.msg_type,
                                rep.c.name.label("rep"), func.substr(it.content, 1, 200).label("content"),
                                it.is_tech_inquiry, it.with_decision_maker)
                         .select_from(interaction.outerjoin(rep, rep.c.employee_id == it.rep_employee_id))
                         .order_by(it.occurred_at.desc().nulls_last(), it.ref),
                         interaction, it.customer_id == customer_id),
    }


def _linked(conn: Connection, customer_id: str, limit: int) -> dict:
    queries = _linked_queries(customer_id)
    # All the totals in one round trip: one scalar subquery per source.
    totals = conn.execute(select(*(select(func.count()).select_from(table).where(cond).scalar_subquery().label(name)
                                   for name, (_, table, cond) in queries.items()))).one()
    out = {}
    for name, (query, _table, cond) in queries.items():
        total = getattr(totals, name)
        rows = conn.execute(query.where(cond).limit(limit)).all() if total else []
        out[name] = {"total": total, "items": [record_out(row) for row in rows]}
    return out


@router.get("/customers/{customer_id}", response_model=CustomerDetail,
            responses={404: {"description": "No such customer in the caller's scope."}})
def get_customer(customer_id: IdPath, who: Annotated[Principal, Depends(require("customers:read"))], conn: Conn,
                 linked_limit: Annotated[int, Query(ge=0, le=100, description="Newest linked records shown per "
                                                                          "source.")] = 20) -> dict:
    """The 360 view of one customer in scope: golden fields, owner, figures, and per source its
    crosswalk, contacts, opportunities, orders, invoices, receivables, receipts, ratings and
    interactions (the newest ``linked_limit`` of each, with their totals)."""
    row = conn.execute(select(*_columns, *_figure_columns).select_from(customer_view)
                       .where(customer.c.customer_id == customer_id, customer_scope(who))).first()
    if row is None:
        raise HTTPException(404, "no such customer")
    figures = figures_out(row) if row.as_of is not None else None
    return {**customer_out(row), "figures": figures, **_linked(conn, customer_id, linked_limit)}
