"""The unified model: one table per business entity of the golden data chain, plus customer_360.

Every entity row keeps the ``ref`` of the source record it came from (``<system>:<object>:<id>``;
document lines add ``#<n>``), the source's reference to its customer (``customer_ref``) and the
unified ``customer_id`` found through ``customer_xref``. Money is integer cents (tax-inclusive
CNY unless the column says ``net``), instants are UTC (``*_at``), calendar days are Asia/Shanghai
days (``*_day``). ``completeness`` is the share of the entity's configured key fields that are
filled (0..1). docs/data-model.md documents every column; a test keeps the two in step.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, String, Table, Text

from hub_core.schema import metadata


def _ref() -> Column:
    return Column("ref", Text, primary_key=True)


def _customer() -> list[Column]:
    return [Column("customer_ref", Text), Column("customer_id", String(100), index=True)]


def _completeness() -> Column:
    return Column("completeness", Float, nullable=False, default=1.0)


def _money(name: str) -> Column:
    return Column(name, BigInteger)


# --- people --------------------------------------------------------------------------------
employee_account = Table(
    "employee_account", metadata, _ref(),
    Column("system", String(20), nullable=False),
    Column("account_id", Text, nullable=False),
    Column("employee_id", Text, index=True),
    Column("name", Text),
    Column("mobile", Text),
    Column("region", Text),
    Column("leader_account_ref", Text),
    _completeness(),
)

employee = Table(
    "employee", metadata,
    Column("employee_id", Text, primary_key=True),
    Column("name", Text),
    Column("mobile", Text),
    Column("region", Text),
    Column("manager_employee_id", Text),
    Column("crm_id", Text),
    Column("u8_code", Text),
    Column("wecom_userid", Text),
    Column("linked_by", String(20), nullable=False),
)

# --- CRM -----------------------------------------------------------------------------------
account_profile = Table(
    "account_profile", metadata, _ref(), *_customer(),
    Column("name", Text),
    Column("account_level", String(10)),
    Column("industry", Text),
    Column("downstream_customers", Integer),
    Column("owner_employee_id", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("modified_at", DateTime(timezone=True)),
    Column("is_deleted", Boolean, nullable=False, default=False),
    _completeness(),
)

contact = Table(
    "contact", metadata, _ref(), *_customer(),
    Column("system", String(20), nullable=False),
    Column("name", Text),
    Column("company_name", Text),
    Column("job_title", Text),
    Column("mobile", Text),
    Column("email", Text),
    Column("owner_employee_id", Text),
    Column("is_decision_maker", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True)),
    Column("is_deleted", Boolean, nullable=False, default=False),
    _completeness(),
)
# an incremental build links again only the contacts of the customer records it changed
# (links.link_contacts, mappings/contact_company.py): looked up by customer_ref
Index("ix_contact_customer_ref", contact.c.customer_ref)

opportunity = Table(
    "opportunity", metadata, _ref(), *_customer(),
    Column("name", Text),
    _money("amount_cents"),
    Column("stage", String(40)),
    Column("status", String(20)),
    Column("probability", Float),
    Column("close_at", DateTime(timezone=True)),
    Column("close_day", Date),
    Column("created_at", DateTime(timezone=True)),
    Column("modified_at", DateTime(timezone=True)),
    Column("stage_changed_at", DateTime(timezone=True)),
    Column("owner_employee_id", Text),
    Column("is_deleted", Boolean, nullable=False, default=False),
    _completeness(),
)

contract = Table(
    "contract", metadata, _ref(), *_customer(),
    Column("name", Text),
    Column("opportunity_ref", Text),
    _money("amount_cents"),
    Column("signed_day", Date),
    Column("start_day", Date),
    Column("end_day", Date),
    Column("status", Text),
    Column("owner_employee_id", Text),
    Column("is_deleted", Boolean, nullable=False, default=False),
    _completeness(),
)

# --- ERP -----------------------------------------------------------------------------------
sales_order = Table(
    "sales_order", metadata, _ref(), *_customer(),
    Column("code", Text, nullable=False),
    Column("order_day", Date),
    Column("state", Text),
    _money("amount_cents"),
    _money("net_amount_cents"),
    Column("owner_employee_id", Text),
    Column("department_code", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("verified_at", DateTime(timezone=True)),
    Column("ship_status", Text),
    _completeness(),
)

sales_order_line = Table(
    "sales_order_line", metadata, _ref(), *_customer(),
    Column("order_ref", Text, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("product_code", Text),
    Column("quantity", Float),
    _money("unit_price_cents"),
    _money("amount_cents"),
    _money("net_amount_cents"),
    Column("tax_rate", Float),
    _completeness(),
)

dispatch = Table(
    "dispatch", metadata, _ref(), *_customer(),
    Column("code", Text, nullable=False),
    Column("dispatch_day", Date),
    Column("state", Text),
    _money("amount_cents"),
    _completeness(),
)

dispatch_line = Table(
    "dispatch_line", metadata, _ref(), *_customer(),
    Column("dispatch_ref", Text, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("order_ref", Text, index=True),
    Column("product_code", Text),
    Column("warehouse_code", Text),
    Column("quantity", Float),
    _money("amount_cents"),
    _completeness(),
)

invoice = Table(
    "invoice", metadata, _ref(), *_customer(),
    Column("number", Text, nullable=False),
    Column("invoice_day", Date),
    Column("voucher_type", Text),
    _money("amount_cents"),
    _completeness(),
)

invoice_line = Table(
    "invoice_line", metadata, _ref(), *_customer(),
    Column("invoice_ref", Text, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("product_code", Text),
    Column("quantity", Float),
    _money("original_amount_cents"),
    _money("amount_cents"),
    _completeness(),
)

receivable = Table(
    "receivable", metadata, _ref(), *_customer(),
    Column("code", Text, nullable=False),
    Column("receivable_day", Date),
    Column("due_day", Date),
    _money("amount_cents"),
    _money("balance_cents"),
    Column("owner_employee_id", Text),
    _completeness(),
)

receipt = Table(
    "receipt", metadata, _ref(), *_customer(),
    Column("code", Text, nullable=False),
    Column("receipt_day", Date),
    _money("amount_cents"),
    _completeness(),
)

product = Table(
    "product", metadata, _ref(),
    Column("code", Text, nullable=False, index=True),
    Column("name", Text),
    Column("specs", Text),
    Column("class_code", Text),
    Column("unit", Text),
    Column("modified_at", DateTime(timezone=True)),
    _completeness(),
)

stock = Table(
    "stock", metadata, _ref(),
    Column("warehouse_code", Text),
    Column("product_code", Text, index=True),
    Column("quantity", Float),
    Column("available_quantity", Float),
    _completeness(),
)

# --- finance -------------------------------------------------------------------------------
credit_rating = Table(
    "credit_rating", metadata,
    Column("ref", Text, primary_key=True),
    Column("rated_day", Date, primary_key=True),
    *_customer(),
    Column("rating", String(10)),
    Column("previous_rating", String(10)),
    Column("notch_change", Integer),
    _money("credit_limit_cents"),
    Column("credit_days", Integer),
    Column("is_current", Boolean, nullable=False, default=False),
    _completeness(),
)

# --- messaging and follow-ups --------------------------------------------------------------
interaction = Table(
    "interaction", metadata, _ref(), *_customer(),
    Column("channel", String(20), nullable=False),
    Column("direction", String(10)),
    Column("contact_ref", Text, index=True),
    Column("rep_employee_id", Text),
    Column("sender_id", Text),
    Column("receiver_id", Text),
    Column("occurred_at", DateTime(timezone=True)),
    Column("msg_type", String(40)),
    Column("content", Text),
    Column("is_tech_inquiry", Boolean, nullable=False, default=False),
    Column("mentions_competitor", Boolean, nullable=False, default=False),
    Column("is_document", Boolean, nullable=False, default=False),
    Column("with_decision_maker", Boolean, nullable=False, default=False),
    _completeness(),
)

# --- build bookkeeping ---------------------------------------------------------------------
build_run = Table(
    "build_run", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("mode", String(20), nullable=False, default="full"),
    Column("raw_watermark", BigInteger),
    Column("config_hash", String(64)),
    Column("stats", Text),
)

# The customers an incremental build can have changed (mappings/affected.py), kept so that the
# next reconcile can evaluate its rules for those customers only (quality/scope.py): several builds
# may run between two reconciles. A full build records none (its reconcile is full).
build_customer = Table(
    "build_customer", metadata,
    Column("build_id", Integer, primary_key=True),
    Column("customer_id", Text, primary_key=True),
)

mapping_quarantine = Table(
    "mapping_quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", Integer, nullable=False, index=True),
    Column("source", String(100), nullable=False),
    Column("stream", String(200), nullable=False),
    Column("record_ref", Text, index=True),
    Column("ref", Text),
    Column("field", Text),
    Column("raw_value", Text),
    Column("reason", Text, nullable=False),
)

data_quality_finding = Table(
    "data_quality_finding", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", Integer, nullable=False, index=True),
    Column("source", String(100), nullable=False),
    Column("stream", String(200), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("record_ref", Text, index=True),
    Column("ref", Text),
    Column("field", Text),
    Column("kind", String(40), nullable=False),
    Column("raw_value", Text),
    Column("detail", Text),
)

data_completeness = Table(
    "data_completeness", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(100), nullable=False),
    Column("system", String(20), nullable=False),
    Column("owner_employee_id", Text),
    Column("records", Integer, nullable=False),
    Column("complete_records", Integer, nullable=False),
    Column("completeness_index", Float, nullable=False),
    Column("build_id", Integer, nullable=False),
)

# --- the customer-360 read model ----------------------------------------------------------
customer_360 = Table(
    "customer_360", metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("name", Text),
    Column("owner_employee_id", Text, index=True),  # indexes: the API's scoped reads (migration 0010)
    Column("owner_name", Text),
    Column("manager_employee_id", Text),
    Column("manager_name", Text),
    Column("region", Text, index=True),
    Column("crm_level", String(10)),
    Column("grade", String(2)),
    Column("health_score", Integer),
    Column("high_intent", Boolean),
    Column("open_opportunities", Integer, nullable=False),
    _money("open_opportunity_cents"),
    Column("last_order_day", Date),
    _money("revenue_12m_cents"),
    _money("receivable_outstanding_cents"),
    _money("receivable_overdue_cents"),
    Column("last_receipt_day", Date),
    _money("last_receipt_cents"),
    Column("credit_rating", String(10)),
    Column("previous_credit_rating", String(10)),
    Column("credit_rating_change", Integer),
    Column("credit_rated_day", Date),
    Column("last_contact_at", DateTime(timezone=True)),
    Column("interactions_30d", Integer, nullable=False),
    Column("tech_inquiries_90d", Integer, nullable=False),
    Column("product_series_90d", Integer, nullable=False),
    Column("downstream_customers", Integer),
    Column("decision_maker_interactions_30d", Integer, nullable=False),
    Column("competitor_mentions_90d", Integer, nullable=False),
    Column("document_events_30d", Integer, nullable=False),
    Column("response_minutes", Float),
    Column("crm_synced_at", DateTime(timezone=True)),
    Column("u8_synced_at", DateTime(timezone=True)),
    Column("finance_synced_at", DateTime(timezone=True)),
    Column("wecom_synced_at", DateTime(timezone=True)),
    Column("completeness", Float),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("build_id", Integer, nullable=False),
)

from hub_core import schema_publish  # noqa: E402,F401  (after customer_360: the candidate copies its columns)
