"""One employee per person across CRM, U8 and WeCom accounts, linked by mobile number.

The mapped ``employee_account`` rows (one per system account) are grouped by their normalised
mobile; IT can force or forbid links and override a person's region or manager in
``mappings/employees.yaml`` (config, not code). The employee id is ``<system>:<account id>`` of
the person's first account in the order CRM, U8, WeCom, so ids stay stable between builds.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, bindparam, select, update

from hub_core.schema import stg_employee
from hub_core.schema_unified import employee, employee_account

DEFAULT_OVERRIDES_FILE = Path(__file__).with_name("employees.yaml")
_SYSTEM_ORDER = {"crm": 0, "u8": 1, "wecom": 2}


class EmployeeOverride(BaseModel):
    """Attributes IT sets for the person owning ``account`` (an employee_account ref)."""

    model_config = ConfigDict(extra="forbid")
    account: str
    region: str | None = None
    manager_account: str | None = None


class EmployeeOverrides(BaseModel):
    """Links IT forces (accounts that are one person) or forbids (never link by mobile)."""

    model_config = ConfigDict(extra="forbid")
    same_person: list[list[str]] = Field(default_factory=list)
    never_link_by_mobile: list[str] = Field(default_factory=list)
    people: list[EmployeeOverride] = Field(default_factory=list)


def load_overrides(path: Path | str | None = None) -> EmployeeOverrides:
    path = Path(path or os.environ.get("HUB_EMPLOYEE_OVERRIDES") or DEFAULT_OVERRIDES_FILE)
    return EmployeeOverrides.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


class Employees:
    """Resolves any system's account to the unified employee id."""

    def __init__(self) -> None:
        self.by_account: dict[str, str] = {}  # employee_account ref -> employee id
        self.by_crm: dict[str, str] = {}
        self.by_u8: dict[str, str] = {}
        self.by_wecom: dict[str, str] = {}
        self.rows: dict[str, dict] = {}

    def crm(self, crm_id) -> str | None:
        if isinstance(crm_id, list):
            crm_id = crm_id[0] if crm_id else None
        return self.by_crm.get(str(crm_id)) if crm_id not in (None, "") else None

    def u8(self, code) -> str | None:
        return self.by_u8.get(str(code)) if code else None


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def link_employees(conn: Connection, overrides: EmployeeOverrides | None = None) -> Employees:
    """Group mapped accounts into employees; write ``employee`` and ``stg_employee``, and set
    ``employee_account.employee_id``."""
    ov = overrides or load_overrides()
    accounts = sorted((dict(r._mapping) for r in conn.execute(select(employee_account))),
                      key=lambda a: (_SYSTEM_ORDER.get(a["system"], 9), a["ref"]))
    by_ref = {a["ref"]: a for a in accounts}
    uf, first_by_mobile, how = _UnionFind(), {}, {}
    never = set(ov.never_link_by_mobile)
    for a in accounts:
        uf.find(a["ref"])
        if a["mobile"] and a["ref"] not in never:
            if a["mobile"] in first_by_mobile:
                uf.union(a["ref"], first_by_mobile[a["mobile"]])
                how[a["ref"]] = "mobile"
            else:
                first_by_mobile[a["mobile"]] = a["ref"]
    for group in ov.same_person:
        known = [ref for ref in group if ref in by_ref]
        for ref in known[1:]:
            uf.union(ref, known[0])
            how[ref] = "override"
    groups: dict[str, list[dict]] = {}
    for a in accounts:  # accounts are in system priority order, so each group's first is its id
        groups.setdefault(uf.find(a["ref"]), []).append(a)
    emp, members_of = Employees(), {}
    for members in groups.values():
        eid = f"{members[0]['system']}:{members[0]['account_id']}"
        row = {"employee_id": eid, "name": None, "mobile": None, "region": None, "manager_employee_id": None,
               "crm_id": None, "u8_code": None, "wecom_userid": None,
               "linked_by": "override" if any(how.get(m["ref"]) == "override" for m in members)
               else "mobile" if len(members) > 1 else "own"}
        for m in members:
            emp.by_account[m["ref"]] = eid
            for key in ("name", "mobile", "region"):
                row[key] = row[key] or m[key]
            col = {"crm": "crm_id", "u8": "u8_code", "wecom": "wecom_userid"}.get(m["system"])
            if col:
                row[col] = row[col] or m["account_id"]
                {"crm": emp.by_crm, "u8": emp.by_u8, "wecom": emp.by_wecom}[m["system"]][m["account_id"]] = eid
        emp.rows[eid], members_of[eid] = row, members
    for eid, row in emp.rows.items():  # managers: the first account of the person naming a leader
        leader = next((a["leader_account_ref"] for a in members_of[eid] if a["leader_account_ref"]), None)
        row["manager_employee_id"] = emp.by_account.get(leader) if leader else None
    for o in ov.people:
        eid = emp.by_account.get(o.account)
        if eid is None:
            continue
        if o.region:
            emp.rows[eid]["region"] = o.region
        if o.manager_account:
            emp.rows[eid]["manager_employee_id"] = emp.by_account.get(o.manager_account)
    rows = list(emp.rows.values())
    if rows:
        conn.execute(employee.insert(), rows)
        conn.execute(stg_employee.insert(), [
            {"employee_id": r["employee_id"], "name": r["name"], "mobile": r["mobile"], "region": r["region"],
             "leader_employee_id": r["manager_employee_id"], "crm_id": r["crm_id"], "u8_code": r["u8_code"],
             "wecom_userid": r["wecom_userid"]} for r in rows])
        conn.execute(update(employee_account).where(employee_account.c.ref == bindparam("b_ref"))
                     .values(employee_id=bindparam("b_eid")),
                     [{"b_ref": ref, "b_eid": eid} for ref, eid in emp.by_account.items()])
    return emp



def load_employees(conn: Connection) -> Employees:
    """The employees an earlier build linked, read back (an incremental build whose employee
    streams did not change keeps them as they are)."""
    emp = Employees()
    for r in conn.execute(select(employee)):
        emp.rows[r.employee_id] = dict(r._mapping)
    index = {"crm": emp.by_crm, "u8": emp.by_u8, "wecom": emp.by_wecom}
    for ref, system, account_id, eid in conn.execute(select(
            employee_account.c.ref, employee_account.c.system, employee_account.c.account_id,
            employee_account.c.employee_id)):
        if eid:
            emp.by_account[ref] = eid
            if system in index:
                index[system][account_id] = eid
    return emp
