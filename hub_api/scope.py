"""Row scoping: which customers (and so which discrepancies and finance records) a key may reach.

Scoping is a SQL condition added to every query, never a filter applied in Python afterwards, so
that counts, pages, filters and look-ups by id all see the same rows. It is defined once, over the
unified model: the customer's owner (``customer.owner_employee_id``, the golden owner the build
keeps) and that owner's region in ``employee`` (the people the build resolved across systems,
the same join ``customer_360`` is built from). Owners and managers are shown by name and region
from ``employee``; internal employee ids never leave the API.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, select, true

from hub_api.keys import Principal
from hub_core.schema import customer, discrepancy
from hub_core.schema_unified import customer_360, employee

owner = employee.alias("owner")
manager = employee.alias("manager")
customer_owner = customer.c.owner_employee_id
owner_name = owner.c.name
owner_region = owner.c.region
manager_name = manager.c.name
# A customer with its owner, the owner's manager and its customer_360 row (absent until a build
# has computed it: the customer is still listed, its 360 figures empty).
customer_view = (customer.outerjoin(owner, owner.c.employee_id == customer_owner)
                 .outerjoin(manager, manager.c.employee_id == owner.c.manager_employee_id)
                 .outerjoin(customer_360, customer_360.c.customer_id == customer.c.customer_id))


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``customer`` rows the principal may see."""
    scope = principal.role.scope
    if scope == "all":
        return true()
    if scope == "region" and principal.regions:
        in_region = select(employee.c.employee_id).where(employee.c.region.in_(principal.regions))
        return customer_owner.in_(in_region)
    if scope == "own" and principal.employee_id:
        return customer_owner == principal.employee_id
    return false()


def scoped_customer_ids(principal: Principal) -> Select:
    """The ids of the customers the principal may see, as a subquery."""
    return select(customer.c.customer_id).where(customer_scope(principal))


def linked_scope(principal: Principal, customer_id_column) -> ColumnElement[bool]:
    """The condition on rows linked to a customer by ``customer_id_column`` (receivables, receipts,
    ratings, ...): rows of customers in scope; rows tied to no customer only for full-scope roles."""
    if principal.role.scope == "all":
        return true()
    return customer_id_column.in_(scoped_customer_ids(principal))


def discrepancy_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``discrepancy`` rows the principal may see: discrepancies of customers in
    scope (those tied to no customer only for full-scope roles), limited to the role's rules."""
    condition = linked_scope(principal, discrepancy.c.customer_id)
    if principal.role.rules is not None:
        condition = and_(condition, discrepancy.c.rule.in_(principal.role.rules))
    return condition


def owner_scope(principal: Principal, employee_id_column) -> ColumnElement[bool]:
    """The condition on per-owner rows (``data_completeness``): owners whose customers the
    principal sees — everyone for full-scope roles, the region's people, or the rep alone."""
    scope = principal.role.scope
    if scope == "all":
        return true()
    if scope == "region" and principal.regions:
        return employee_id_column.in_(select(employee.c.employee_id).where(employee.c.region.in_(principal.regions)))
    if scope == "own" and principal.employee_id:
        return employee_id_column == principal.employee_id
    return false()
