"""Who to mention: the owner of a discrepancy and their manager, with their robot handles.

``discrepancy`` carries the owner's name and region as text; the people (mobile for DingTalk
``atMobiles``, WeCom ``userid`` for ``<@userid>``, leader for the manager) live in the employee
table. :func:`load_directory` is the one place that reads it: today ``stg_employee``; re-point
it when the unified ``employee`` table lands.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select


@dataclass(frozen=True)
class Person:
    """One employee as the alerts need them."""

    employee_id: str
    name: str | None
    region: str | None
    mobile: str | None
    wecom_userid: str | None
    manager_id: str | None


class Directory:
    """Employees by id and by name, to resolve a discrepancy's owner text to a person."""

    def __init__(self, people: list[Person]) -> None:
        self.by_id = {p.employee_id: p for p in people}
        self._by_name: dict[str, list[Person]] = defaultdict(list)
        for p in people:
            if p.name:
                self._by_name[p.name.strip()].append(p)

    def owner(self, name: str | None, region: str | None) -> Person | None:
        """The employee called ``name`` (in ``region`` when several share the name); None when
        unknown or still ambiguous — better no mention than the wrong person."""
        found = self._by_name.get((name or "").strip(), [])
        if len(found) > 1:
            found = [p for p in found if p.region == region]
        return found[0] if len(found) == 1 else None

    def manager(self, person: Person | None) -> Person | None:
        """The person's leader, if known."""
        return self.by_id.get(person.manager_id) if person and person.manager_id else None


def load_directory(conn: Connection) -> Directory:
    """Read the employees (``stg_employee`` today; re-point to ``employee`` when it exists)."""
    from hub_core.schema import stg_employee as e

    rows = conn.execute(select(e.c.employee_id, e.c.name, e.c.region, e.c.mobile, e.c.wecom_userid,
                               e.c.leader_employee_id))
    return Directory([Person(r.employee_id, r.name, r.region, r.mobile, r.wecom_userid, r.leader_employee_id)
                      for r in rows])
