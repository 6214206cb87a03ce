"""The unified-model part of the API test warehouse: employees, customer_360 rows and, for every
customer, records of every source, with counts that differ per customer so tests can tell them
apart. Customer ``C<i>`` has i % 4 + 1 receivables, i % 3 + 1 receipts, 2 ratings, ... ."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from hub_core.schema_unified import (
    contact,
    credit_rating,
    customer_360,
    data_completeness,
    employee,
    interaction,
    invoice,
    opportunity,
    receipt,
    receivable,
    sales_order,
)

GRADES = "SABC"


def counts(i: int) -> dict[str, int]:
    """How many linked records of each kind customer ``C<i>`` has."""
    return {"contacts": 1 + i % 2, "opportunities": 2 + i % 3, "orders": i % 5, "invoices": 1 + i % 2,
            "receivables": 1 + i % 4, "receipts": 1 + i % 3, "credit_ratings": 2, "interactions": 3 + i % 30}


def seed_unified(conn, employees, manager, owners, t0) -> None:
    people = {e: (n, r) for e, n, r in employees}
    conn.execute(insert(employee), [{"employee_id": e, "name": n, "region": r, "linked_by": "mobile",
                                     "manager_employee_id": manager[0] if r == manager[2] else None}
                                    for e, n, r in [*employees, manager]])
    c360, rows = [], {t: [] for t in ("contact", "opportunity", "sales_order", "invoice", "receivable", "receipt",
                                      "credit_rating", "interaction")}
    for i, owner in enumerate(owners):
        cid, n = f"C{i:02d}", counts(i)
        name, region = people.get(owner, (None, None))
        c360.append({"customer_id": cid, "name": f"客户{i:02d}", "owner_employee_id": owner, "owner_name": name,
                     "region": region, "grade": GRADES[i % 4], "health_score": 10 * (i % 10), "high_intent": i % 10 >= 8,
                     "open_opportunities": n["opportunities"], "open_opportunity_cents": 100_000 * i,
                     "receivable_outstanding_cents": 5000 * i, "receivable_overdue_cents": 5000 if i % 3 == 0 else 0,
                     "credit_rating": "BBB", "previous_credit_rating": "A" if i % 4 == 1 else "BBB",
                     "credit_rating_change": -1 if i % 4 == 1 else 0, "interactions_30d": i,
                     "tech_inquiries_90d": 0, "product_series_90d": 0, "decision_maker_interactions_30d": 0,
                     "competitor_mentions_90d": 0, "document_events_30d": 0, "as_of": t0, "build_id": 1})
        base = {"customer_id": cid, "customer_ref": f"crm:AccountObj:{i}", "completeness": 1.0}
        for k in range(n["contacts"]):
            rows["contact"].append({**base, "ref": f"crm:ContactObj:{i}-{k}", "system": "crm", "name": f"联系人{i}-{k}",
                                    "mobile": f"1380000{i:02d}{k:02d}", "is_decision_maker": k == 0, "is_deleted": False})
        for k in range(n["opportunities"]):
            rows["opportunity"].append({**base, "ref": f"crm:NewOpportunityObj:{i}-{k}", "name": f"商机{i}-{k}",
                                        "amount_cents": 123_456_78 + k, "status": "open", "stage": "proposal",
                                        "modified_at": t0 + timedelta(hours=k), "owner_employee_id": owner,
                                        "is_deleted": False})
        rows["opportunity"].append({**base, "ref": f"crm:NewOpportunityObj:{i}-deleted", "status": "open",
                                    "is_deleted": True})
        for k in range(n["orders"]):
            rows["sales_order"].append({**base, "ref": f"u8:saleorderlist:SO{i}-{k}", "code": f"SO{i}-{k}",
                                        "order_day": (t0 + timedelta(days=k)).date(), "amount_cents": 1000 * k})
        for k in range(n["invoices"]):
            rows["invoice"].append({**base, "ref": f"u8:saleinvoicelist:INV{i}-{k}", "number": f"INV{i}-{k}",
                                    "invoice_day": (t0 + timedelta(days=k)).date(), "amount_cents": 2000})
        for k in range(n["receivables"]):
            rows["receivable"].append({**base, "ref": f"u8:oughtreceivelist:AR{i:02d}-{k}", "code": f"AR{i:02d}-{k}",
                                       "receivable_day": (t0 - timedelta(days=40)).date(),
                                       "due_day": (t0 - timedelta(days=10 * k)).date(), "amount_cents": 10_000,
                                       "balance_cents": 5000 if k % 2 == 0 else 0, "owner_employee_id": owner})
        for k in range(n["receipts"]):
            rows["receipt"].append({**base, "ref": f"u8:acceptlist:RC{i:02d}-{k}", "code": f"RC{i:02d}-{k}",
                                    "receipt_day": (t0 + timedelta(days=k)).date(), "amount_cents": 700 + k})
        for k in range(n["credit_ratings"]):
            rows["credit_rating"].append({**base, "ref": f"finance:credit_rating:F{i:02d}",
                                          "rated_day": (t0 - timedelta(days=30 * k)).date(), "rating": "BBB",
                                          "previous_rating": "A" if i % 4 == 1 and k == 0 else "BBB",
                                          "notch_change": -1 if i % 4 == 1 and k == 0 else 0,
                                          "credit_limit_cents": 1_000_000, "credit_days": 30, "is_current": k == 0})
        for k in range(n["interactions"]):
            rows["interaction"].append({**base, "ref": f"wecom:msg:{i}-{k}", "channel": "wecom", "direction": "in",
                                        "occurred_at": t0 + timedelta(minutes=k), "rep_employee_id": owner,
                                        "content": "长" * 300 if k == 0 else f"消息{k}"})
    conn.execute(insert(customer_360), c360)
    tables = {"contact": contact, "opportunity": opportunity, "sales_order": sales_order, "invoice": invoice,
              "receivable": receivable, "receipt": receipt, "credit_rating": credit_rating, "interaction": interaction}
    for name, table in tables.items():
        keys = {k for row in rows[name] for k in row}
        conn.execute(insert(table), [{k: row.get(k) for k in keys} for row in rows[name]])
    # An unmatched receivable: no customer, so only full-scope roles see it.
    conn.execute(insert(receivable), [{"ref": "u8:oughtreceivelist:ORPHAN", "code": "ORPHAN", "amount_cents": 1,
                                       "balance_cents": 1, "customer_id": None, "completeness": 0.5}])
    # Completeness per entity, source and owner (as mappings/completeness.py writes it).
    conn.execute(insert(data_completeness), [
        {"entity": entity, "system": system, "owner_employee_id": owner, "records": records, "complete_records": ok,
         "completeness_index": ok / records, "build_id": 1}
        for entity, system, owner, records, ok in [
            ("opportunity", "crm", "E1", 10, 9), ("opportunity", "crm", "E2", 10, 5), ("opportunity", "crm", "E3", 4, 4),
            ("receivable", "u8", "E1", 6, 6), ("receivable", "u8", None, 1, 0), ("receivable", "u8", "E3", 2, 1)]])
