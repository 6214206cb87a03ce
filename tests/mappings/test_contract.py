"""customer_360 is read by dashboards and BI: its columns may be added, never renamed or
dropped silently. Changing this list is a deliberate, documented (docs/data-model.md) decision."""

from hub_core.schema_unified import customer_360

PINNED = [
    "customer_id", "name", "owner_employee_id", "owner_name", "manager_employee_id", "manager_name", "region",
    "crm_level", "grade", "health_score", "high_intent", "open_opportunities", "open_opportunity_cents",
    "last_order_day", "revenue_12m_cents", "receivable_outstanding_cents", "receivable_overdue_cents",
    "last_receipt_day", "last_receipt_cents", "credit_rating", "previous_credit_rating", "credit_rating_change",
    "credit_rated_day", "last_contact_at", "interactions_30d", "tech_inquiries_90d", "product_series_90d",
    "downstream_customers", "decision_maker_interactions_30d", "competitor_mentions_90d", "document_events_30d",
    "response_minutes", "crm_synced_at", "u8_synced_at", "finance_synced_at", "wecom_synced_at", "completeness",
    "as_of", "build_id",
]


def test_customer_360_keeps_every_pinned_column_in_order():
    columns = list(customer_360.c.keys())
    assert columns[: len(PINNED)] == PINNED, "a pinned customer_360 column was renamed, dropped or moved"
