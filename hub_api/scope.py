"""Row scoping: which customers (and so which discrepancies) a key's queries may reach.

Scoping is a SQL condition added to every query, never a filter applied in Python afterwards, so
that counts, pages, filters and look-ups by id all see the same rows. It is defined once, over the
customer's owner and the owner's region; when the unified model changes, re-point ``owner_region``
and ``customer_owner`` (and ``owner_name``, ``customer_with_owner``) here and everything else follows.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, select, true

from hub_api.keys import Principal
from hub_core.schema import customer, discrepancy, stg_employee

# Where a customer's owner, the owner's name and region live today; the listings join the same way.
customer_owner = customer.c.owner_employee_id
owner_name = stg_employee.c.name
owner_region = stg_employee.c.region
customer_with_owner = customer.outerjoin(stg_employee, stg_employee.c.employee_id == customer_owner)


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``customer`` rows the principal may see."""
    scope = principal.role.scope
    if scope == "all":
        return true()
    if scope == "region" and principal.regions:
        in_region = select(stg_employee.c.employee_id).where(owner_region.in_(principal.regions))
        return customer_owner.in_(in_region)
    if scope == "own" and principal.employee_id:
        return customer_owner == principal.employee_id
    return false()


def scoped_customer_ids(principal: Principal) -> Select:
    """The ids of the customers the principal may see, as a subquery."""
    return select(customer.c.customer_id).where(customer_scope(principal))


def discrepancy_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``discrepancy`` rows the principal may see: discrepancies of customers in
    scope (those tied to no customer only for full-scope roles), limited to the role's rules."""
    if principal.role.scope == "all":
        condition = true()
    else:
        condition = discrepancy.c.customer_id.in_(scoped_customer_ids(principal))
    if principal.role.rules is not None:
        condition = and_(condition, discrepancy.c.rule.in_(principal.role.rules))
    return condition
