"""Response shapes of the customer endpoints: the customer as listed, its customer-360 figures and
the linked records of every source (bounded lists with their full counts). Money is an exact
decimal string (``*_cny``); owners, managers and reps appear by name, never by employee id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

from hub_api.models import aware
from quality.report import money

# Risk flags of a customer, each a condition on its customer_360 / customer row (routes_customers).
RISKS = ("overdue", "credit_downgrade", "needs_review")


class CustomerOut(BaseModel):
    """A unified customer as listed: golden fields, owner by name and region, grade and risks."""

    customer_id: str
    name: str
    uscc: str | None
    owner: str | None
    manager: str | None
    region: str | None
    grade: str | None
    health_score: int | None
    high_intent: bool | None
    record_count: int
    needs_review: bool
    risks: list[str]
    updated_at: datetime | None


class CustomerPage(BaseModel):
    """A page of customers; ``total`` counts every row the query matches in scope."""

    items: list[CustomerOut]
    total: int
    next_cursor: str | None


class Figures(BaseModel):
    """The customer-360 figures of the latest build (see docs/data-model.md, ``customer_360``)."""

    crm_level: str | None
    open_opportunities: int
    open_opportunity_cny: str | None
    last_order_day: date | None
    revenue_12m_cny: str | None
    receivable_outstanding_cny: str | None
    receivable_overdue_cny: str | None
    last_receipt_day: date | None
    last_receipt_cny: str | None
    credit_rating: str | None
    previous_credit_rating: str | None
    credit_rating_change: int | None
    credit_rated_day: date | None
    last_contact_at: datetime | None
    interactions_30d: int
    tech_inquiries_90d: int
    product_series_90d: int
    downstream_customers: int | None
    decision_maker_interactions_30d: int
    competitor_mentions_90d: int
    document_events_30d: int
    response_minutes: float | None
    completeness: float | None
    synced_at: dict[str, datetime | None]
    as_of: datetime


class RefOut(BaseModel):
    """A source record matched into the customer, and how."""

    ref: str
    system: str
    match_method: str
    decided_by: str | None


class ContactOut(BaseModel):
    """A person at the customer, from the CRM or WeCom."""

    ref: str
    system: str
    name: str | None
    job_title: str | None
    mobile: str | None
    email: str | None
    is_decision_maker: bool


class OpportunityOut(BaseModel):
    """A CRM opportunity (deleted ones are left out)."""

    ref: str
    name: str | None
    amount_cny: str | None
    stage: str | None
    status: str | None
    close_day: date | None
    modified_at: datetime | None
    owner: str | None


class OrderOut(BaseModel):
    """An ERP sales order."""

    ref: str
    code: str
    order_day: date | None
    state: str | None
    amount_cny: str | None
    ship_status: str | None


class InvoiceOut(BaseModel):
    """A sales invoice."""

    ref: str
    number: str
    invoice_day: date | None
    amount_cny: str | None


class ReceivableOut(BaseModel):
    """A receivable and its open balance."""

    ref: str
    code: str
    receivable_day: date | None
    due_day: date | None
    amount_cny: str | None
    balance_cny: str | None


class ReceiptOut(BaseModel):
    """A receipt of payment."""

    ref: str
    code: str
    receipt_day: date | None
    amount_cny: str | None


class RatingOut(BaseModel):
    """A finance credit rating; ``notch_change`` is negative for a downgrade."""

    ref: str
    rated_day: date
    rating: str | None
    previous_rating: str | None
    notch_change: int | None
    credit_limit_cny: str | None
    credit_days: int | None
    is_current: bool


class InteractionOut(BaseModel):
    """A CRM follow-up or WeCom message; ``content`` is cut to its first 200 characters."""

    ref: str
    channel: str
    direction: str | None
    occurred_at: datetime | None
    msg_type: str | None
    rep: str | None
    content: str | None
    is_tech_inquiry: bool
    with_decision_maker: bool


class Linked(BaseModel, Generic[T]):
    """A bounded list of linked records: the newest ``items`` and the ``total`` that exist."""

    total: int
    items: list[T]


class CustomerDetail(CustomerOut):
    """The 360 view of one customer: its figures and, per source, its newest linked records
    (at most ``linked_limit`` of each, newest first) with how many exist in all."""

    figures: Figures | None
    refs: Linked[RefOut]
    contacts: Linked[ContactOut]
    opportunities: Linked[OpportunityOut]
    orders: Linked[OrderOut]
    invoices: Linked[InvoiceOut]
    receivables: Linked[ReceivableOut]
    receipts: Linked[ReceiptOut]
    credit_ratings: Linked[RatingOut]
    interactions: Linked[InteractionOut]


def cny(cents: int | None) -> str | None:
    """Cents as an exact decimal CNY string, None kept."""
    return None if cents is None else money(cents)


def customer_out(row) -> dict:
    """A row of the customer view (routes_customers) as a ``CustomerOut``."""
    risks = [name for name in RISKS if getattr(row, f"risk_{name}")]
    return {"customer_id": row.customer_id, "name": row.name, "uscc": row.uscc, "owner": row.owner,
            "manager": row.manager, "region": row.region, "grade": row.grade, "health_score": row.health_score,
            "high_intent": row.high_intent, "record_count": row.record_count, "needs_review": bool(row.needs_review),
            "risks": risks, "updated_at": aware(row.updated_at)}


_MONEY = ("open_opportunity", "revenue_12m", "receivable_outstanding", "receivable_overdue", "last_receipt")
_PLAIN = ("crm_level", "open_opportunities", "last_order_day", "last_receipt_day", "credit_rating",
          "previous_credit_rating", "credit_rating_change", "credit_rated_day", "interactions_30d",
          "tech_inquiries_90d", "product_series_90d", "downstream_customers", "decision_maker_interactions_30d",
          "competitor_mentions_90d", "document_events_30d", "response_minutes", "completeness")


def figures_out(row) -> dict:
    """A customer_360 row as ``Figures``."""
    out = {name: getattr(row, name) for name in _PLAIN}
    out.update({f"{name}_cny": cny(getattr(row, f"{name}_cents")) for name in _MONEY})
    out["last_contact_at"] = aware(row.last_contact_at)
    out["synced_at"] = {s: aware(getattr(row, f"{s}_synced_at")) for s in ("crm", "u8", "finance", "wecom")}
    out["as_of"] = aware(row.as_of)
    return out


def record_out(row) -> dict:
    """A linked-record row as a dict: ``*_cents`` become ``*_cny``, instants aware, text cut."""
    out = {}
    for key, value in row._mapping.items():
        if key.endswith("_cents"):
            out[key[:-6] + "_cny"] = cny(value)
        elif isinstance(value, datetime):
            out[key] = aware(value)
        elif key == "content" and value is not None:
            out[key] = value[:200]
        else:
            out[key] = value
    return out
