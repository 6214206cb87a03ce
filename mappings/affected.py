"""Which customers an incremental build can have changed, so customer_360 is recomputed for those
customers only (issue #6: an incremental build costs what the change costs, not the warehouse).

A customer_360 row reads only rows that carry its customer id (and the ``customer`` row itself,
its owner, and the product catalogue through its order lines). So a customer's row can differ
from the last build's only if some row carried its id before this build or carries it after
and that row was mapped afresh, forgotten, re-linked, or a product its orders name changed - or
if entity resolution rewrote the customer itself. :class:`Affected` collects those ids from both
sides of every change: *before* (rows about to be forgotten, rows about to be re-linked) and
*after* (the same refs once linked). Whatever is not collected here keeps its customer_360 row
from the last build, so a change this misses is a stale row: ``tests/mappings/
test_incremental_c360.py`` and ``bench/build.py --verify`` compare with a full rebuild.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from hub_core.schema import metadata
from hub_core.schema_unified import (
    build_customer,
    contact,
    interaction,
    product,
    sales_order,
    sales_order_line,
)
from hub_core.sql import among
from mappings.completeness import CompletenessLog
from mappings.staging import insert_batched

CHUNK = 500


def customer_tables() -> list:
    """The unified entity tables whose rows belong to a customer through the crosswalk."""
    return [t for t in metadata.tables.values() if {"ref", "customer_ref", "customer_id"} <= set(t.c.keys())]


class Affected:
    """Customer ids an incremental build touched (collected as it goes; see the module doc)."""

    def __init__(self, conn: Connection, log: CompletenessLog | None = None):
        self.conn = conn
        self.log = log  # the completeness index follows the same rows (mappings/completeness.py)
        self.customers: set[str] = set()
        self.product_codes: set[str] = set()
        self._relinked: dict[str, set[str]] = {}

    def where(self, table, column, values) -> None:
        """Add the customers of the rows of ``table`` whose ``column`` is one of ``values``."""
        if not values or "customer_id" not in table.c:
            return
        ordered = sorted(v for v in values if v is not None)
        for i in range(0, len(ordered), CHUNK):
            self.customers.update(self.conn.execute(
                select(table.c.customer_id).where(among(column, ordered[i:i + CHUNK]), table.c.customer_id.is_not(None))
                .distinct()).scalars())

    def _codes(self, refs: set[str]) -> None:
        ordered = sorted(refs)
        for i in range(0, len(ordered), CHUNK):
            self.product_codes.update(self.conn.execute(
                select(product.c.code).where(among(product.c.ref, ordered[i:i + CHUNK]))).scalars())

    def before_forget(self, spec, refs: set[str]) -> None:
        """Rows of one stream's records (and their document lines) about to be deleted and mapped
        again: the customers they belonged to, the product codes they named."""
        table = metadata.tables[spec.entity]
        self.where(table, table.c.ref, refs)
        if self.log:
            self.log.capture(table, refs)
        if spec.lines:
            lines = metadata.tables[spec.lines.entity]
            self.where(lines, lines.c[spec.lines.parent_column], refs)
            if self.log:
                self.log.capture(lines, refs, lines.c[spec.lines.parent_column])
        if table is product:
            self._codes(refs)

    def relinking(self, scope) -> None:
        """Before linking: the customers of every row the scoped links may re-link."""
        if self.log:  # rows mapped afresh and not captured before they were forgotten are new
            self.log.new(scope.touched)
        for table in customer_tables():
            if table is contact:
                continue  # linked apart: links.link_contacts reports the moves (:meth:`contacts`)
            refs = scope.refs(self.conn, table)
            self._relinked[table.name] = refs
            self.where(table, table.c.ref, refs)
            if self.log:
                self.log.capture(table, refs)

    def contacts(self, moved: dict[str, tuple[str | None, str | None]]) -> None:
        """Contacts whose customer changed (ref -> (before, after)): both customers (their messages
        follow, see messages)."""
        self.customers.update(c for pair in moved.values() for c in pair if c is not None)
        if self.log:
            self.log.relinked(contact, set(moved), {ref: old for ref, (old, _) in moved.items()})

    def messages(self, refs: set[str], before: bool) -> None:
        """Messages whose parties, customer or flags may change (call before and after linking them)."""
        self.where(interaction, interaction.c.ref, refs)
        if before and self.log:
            self.log.capture(interaction, refs)

    def after(self, scope) -> None:
        """After linking: the customers the same rows (and rows mapped afresh) belong to now, and
        the customers whose orders name a product that changed."""
        for table in customer_tables():
            if table is contact:
                continue
            refs = self._relinked.get(table.name, set()) | scope.touched.get(table.name, set())
            self.where(table, table.c.ref, refs)
        self.where(contact, contact.c.ref, scope.touched.get(contact.name, set()))
        self._codes(scope.touched.get(product.name, set()))
        codes = sorted(self.product_codes)
        s, ln = sales_order.c, sales_order_line.c
        for i in range(0, len(codes), CHUNK):
            self.customers.update(self.conn.execute(
                select(s.customer_id).select_from(sales_order_line.join(sales_order, s.ref == ln.order_ref))
                .where(among(ln.product_code, codes[i:i + CHUNK]), s.customer_id.is_not(None)).distinct()).scalars())


def record_customers(conn: Connection, build_id: int, customers: set[str]) -> int:
    """Keep the customers an incremental build touched (``build_customer``) for the next
    reconcile, which evaluates its rules for these (and the customers its as-of move reaches)
    only (quality/scope.py); returns how many."""
    return insert_batched(conn, build_customer, ({"build_id": build_id, "customer_id": c}
                                                 for c in sorted(c for c in customers if c is not None)))
