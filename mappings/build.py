"""Build the unified customer-360 from what connectors landed: staging, matching, crosswalk."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update

from hub_core.schema import customer_xref, stg_employee, stg_opportunity, stg_sales_order
from mappings.config import MappingConfig, load_mapping
from mappings.identity import resolve_customers
from mappings.staging import (
    stage_employees,
    stage_opportunities,
    stage_sales_orders,
)

log = logging.getLogger(__name__)


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
        # Customers, their crosswalk and review queue persist: ids are stable across builds.
        for table in (stg_sales_order, stg_opportunity, stg_employee):
            conn.execute(delete(table))
        emp = stage_employees(conn, cfg)
        ident = resolve_customers(conn, cfg, emp)
        n_opps = stage_opportunities(conn, cfg, emp)
        n_orders = stage_sales_orders(conn, cfg, emp)
        # Attach documents to customers set-wise, through the crosswalk.
        for table, link in ((stg_opportunity, stg_opportunity.c.account_ref),
                            (stg_sales_order, stg_sales_order.c.u8_customer_ref)):
            conn.execute(update(table).values(customer_id=select(customer_xref.c.customer_id)
                                              .where(customer_xref.c.ref == link).scalar_subquery()))
    stats = BuildStats(len(emp.rows), ident.records, ident.customers, ident.review, n_opps, n_orders)
    log.info("customer-360 built: %s", stats)
    return stats
