"""Read-only finance records: receivables, receipts and credit ratings, with their customer.

Role finance reads them for every customer; other roles holding ``finance:read`` read them scoped
like customers (a rep: their own customers' records), in the same SQL as every other listing.
Records tied to no unified customer are shown to full-scope roles only. Pages are keyset by ref.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Connection, and_, func, or_, select

from hub_api import paging
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models_customers import RatingOut, ReceiptOut, ReceivableOut, record_out
from hub_api.scope import linked_scope
from hub_core.schema import customer
from hub_core.schema_unified import credit_rating, employee, receipt, receivable

router = APIRouter(prefix="/finance", responses=COMMON_RESPONSES, tags=["finance"])
CustomerId = Annotated[str | None, Query(min_length=1, max_length=200, description="Unified customer id.")]


class OfCustomer(BaseModel):
    """The unified customer a finance record belongs to (None when unmatched)."""

    customer_id: str | None
    customer_name: str | None


class FinanceReceivable(ReceivableOut, OfCustomer):
    """A receivable with its customer and owner (by name)."""

    owner: str | None


class FinanceReceipt(ReceiptOut, OfCustomer):
    """A receipt with its customer."""


class FinanceRating(RatingOut, OfCustomer):
    """A credit rating with its customer."""


class ReceivablePage(BaseModel):
    """A page of receivables."""

    items: list[FinanceReceivable]
    total: int
    next_cursor: str | None


class ReceiptPage(BaseModel):
    """A page of receipts."""

    items: list[FinanceReceipt]
    total: int
    next_cursor: str | None


class RatingPage(BaseModel):
    """A page of credit ratings."""

    items: list[FinanceRating]
    total: int
    next_cursor: str | None


def _page(conn: Connection, kind: str, table, columns, where: list, cursor: str | None, limit: int,
          key_columns, key_types: list[type], joins=None) -> dict:
    """Count, then the page after ``cursor``, ordered by ``key_columns``."""
    source = (joins if joins is not None else table).outerjoin(customer, customer.c.customer_id == table.c.customer_id)
    total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    if cursor is not None:
        values = paging.decode(kind, cursor, key_types)
        if len(key_columns) == 1:
            where = [*where, key_columns[0] > values[0]]
        else:
            (a, b), (va, vb) = key_columns, values
            where = [*where, or_(a > va, and_(a == va, b > vb))]
    query = (select(*columns, table.c.customer_id, customer.c.name.label("customer_name")).select_from(source)
             .where(*where).order_by(*key_columns).limit(limit + 1))
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return {"items": [record_out(r) for r in rows], "total": total,
            "next_cursor": paging.encode(kind, [getattr(last, c.name) for c in key_columns]) if last else None}


def _scoped(who: Principal, customer_column, customer_id: str | None) -> list:
    """The caller's scope on a finance table, narrowed to one customer when asked."""
    where = [linked_scope(who, customer_column)]
    if customer_id is not None:
        where.append(customer_column == customer_id)
    return where


@router.get("/receivables", response_model=ReceivablePage)
def receivables(who: Annotated[Principal, Depends(require("finance:read"))], conn: Conn,
                customer_id: CustomerId = None,
                open_only: Annotated[bool, Query(description="Only receivables with a balance left.")] = False,
                due_before: Annotated[date | None, Query(description="Only those due before this day.")] = None,
                limit: paging.Limit = 50, cursor: paging.Cursor = None) -> dict:
    """Receivables in the caller's scope, by ref."""
    r = receivable.c
    where = _scoped(who, r.customer_id, customer_id)
    if open_only:
        where.append(r.balance_cents > 0)
    if due_before is not None:
        where.append(r.due_day < due_before)
    owner = employee.alias("owner")
    columns = (r.ref, r.code, r.receivable_day, r.due_day, r.amount_cents, r.balance_cents, owner.c.name.label("owner"))
    joins = receivable.outerjoin(owner, owner.c.employee_id == r.owner_employee_id)
    return _page(conn, "receivables", receivable, columns, where, cursor, limit, [r.ref], [str], joins)


@router.get("/receipts", response_model=ReceiptPage)
def receipts(who: Annotated[Principal, Depends(require("finance:read"))], conn: Conn,
             customer_id: CustomerId = None,
             since: Annotated[date | None, Query(description="Received on or after this day.")] = None,
             until: Annotated[date | None, Query(description="Received on or before this day.")] = None,
             limit: paging.Limit = 50, cursor: paging.Cursor = None) -> dict:
    """Receipts of payment in the caller's scope, by ref."""
    p = receipt.c
    where = _scoped(who, p.customer_id, customer_id)
    if since is not None:
        where.append(p.receipt_day >= since)
    if until is not None:
        where.append(p.receipt_day <= until)
    columns = (p.ref, p.code, p.receipt_day, p.amount_cents)
    return _page(conn, "receipts", receipt, columns, where, cursor, limit, [p.ref], [str])


@router.get("/credit-ratings", response_model=RatingPage)
def credit_ratings(who: Annotated[Principal, Depends(require("finance:read"))], conn: Conn,
                   customer_id: CustomerId = None,
                   current_only: Annotated[bool, Query(description="Only each record's current rating.")] = False,
                   downgraded: Annotated[bool | None, Query(description="Only downgrades (or only the others).")] = None,
                   limit: paging.Limit = 50, cursor: paging.Cursor = None) -> dict:
    """Credit ratings in the caller's scope, by ref and rated day."""
    cr = credit_rating.c
    where = _scoped(who, cr.customer_id, customer_id)
    if current_only:
        where.append(cr.is_current.is_(True))
    if downgraded is True:
        where.append(cr.notch_change < 0)
    elif downgraded is False:
        where.append(or_(cr.notch_change >= 0, cr.notch_change.is_(None)))
    columns = (cr.ref, cr.rated_day, cr.rating, cr.previous_rating, cr.notch_change, cr.credit_limit_cents,
               cr.credit_days, cr.is_current)
    return _page(conn, "credit-ratings", credit_rating, columns, where, cursor, limit, [cr.ref, cr.rated_day],
                 [str, date])
