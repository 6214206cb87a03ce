"""Build the unified customer-360 from what connectors landed: staging, matching, crosswalk."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update

from hub_core.schema import (
    customer,
    customer_review,
    customer_xref,
    stg_customer_record,
    stg_employee,
    stg_opportunity,
    stg_sales_order,
)
from mappings.config import MappingConfig, load_mapping
from mappings.matching import Record, match_records
from mappings.normalize import NameKey
from mappings.staging import (
    insert_batched,
    stage_customer_records,
    stage_employees,
    stage_opportunities,
    stage_sales_orders,
)

log = logging.getLogger(__name__)

# The name shown for a customer: CRM first (sales owns the relationship), then ERP, then finance.
_NAME_PRIORITY = {"crm": 0, "u8": 1, "finance": 2}


@dataclass
class BuildStats:
    employees: int
    customer_records: int
    customers: int
    review: int
    opportunities: int
    orders: int


def build_customer360(engine: Engine, mapping: MappingConfig | None = None) -> BuildStats:
    """Rebuild staging and the unified model in one transaction (readers never see half)."""
    cfg = mapping or load_mapping()
    with engine.begin() as conn:
        for table in (customer_review, customer_xref, customer, stg_sales_order, stg_opportunity,
                      stg_customer_record, stg_employee):
            conn.execute(delete(table))
        emp = stage_employees(conn, cfg)
        n_records = stage_customer_records(conn, cfg, emp)
        records = [
            Record(ref=r.ref, system=r.system, name=r.name_norm,
                   key=NameKey(r.name_key, r.name_city) if r.name_key else None,
                   uscc=r.uscc, u8_code=r.u8_code, owner=r.owner_employee_id, deleted=r.is_deleted)
            for r in conn.execute(select(stg_customer_record))
        ]
        result = match_records(records)
        customers, xrefs = [], []
        for cluster in result.clusters:
            cid = cluster.customer_id
            ranked = sorted(cluster.records, key=lambda r: (r.deleted, _NAME_PRIORITY[r.system], r.ref))
            named = next((r for r in ranked if r.name), ranked[0])
            owner = next((r.owner for r in ranked if r.system == "crm" and r.owner), None) or next(
                (r.owner for r in ranked if r.owner), None)
            customers.append({"customer_id": cid, "name": named.name or named.ref, "uscc": cluster.uscc,
                              "owner_employee_id": owner, "record_count": len(cluster.records),
                              "needs_review": cluster.review})
            xrefs.extend({"ref": r.ref, "customer_id": cid, "system": r.system,
                          "match_method": result.methods[r.ref]} for r in cluster.records)
        insert_batched(conn, customer, customers)
        insert_batched(conn, customer_xref, xrefs)
        insert_batched(conn, customer_review, (
            {"ref": ref, "reason": reason, "candidates": json.dumps(cands)}
            for ref, (reason, cands) in result.review.items()))
        n_opps = stage_opportunities(conn, cfg, emp)
        n_orders = stage_sales_orders(conn, cfg, emp)
        # Attach documents to customers set-wise, through the crosswalk.
        for table, link in ((stg_opportunity, stg_opportunity.c.account_ref),
                            (stg_sales_order, stg_sales_order.c.u8_customer_ref)):
            conn.execute(update(table).values(customer_id=select(customer_xref.c.customer_id)
                                              .where(customer_xref.c.ref == link).scalar_subquery()))
    stats = BuildStats(len(emp.rows), n_records, len(customers), len(result.review), n_opps, n_orders)
    log.info("customer-360 built: %s", stats)
    return stats
