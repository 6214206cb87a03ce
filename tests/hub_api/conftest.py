"""A small, fully known warehouse for the API tests: three employees in two regions (and their
manager), customers owned by each (and one by nobody) with their customer_360 rows and linked
records of every source, discrepancies of several rules, sync runs, and a key per role."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from hub_core.schema import customer, customer_xref, discrepancy, sync_run
from tests.hub_api.seed_unified import seed_unified

EMPLOYEES = [("E1", "王芳", "华东"), ("E2", "李强", "华东"), ("E3", "陈静", "华南")]
MANAGER = ("E9", "赵敏", "华东")  # manages E1 and E2; E3 has no manager
OWNERS = ["E1", "E2", "E3", "E1", "E2", "E3", "E1", "E3", "E3", "E2", "E1", None]
T0 = datetime(2026, 11, 1, tzinfo=UTC)
RULES = [("R1", "red"), ("R5", "orange"), ("R7", "yellow")]


@dataclass
class Hub:
    """The seeded warehouse, a client on it, and one key per role."""

    client: TestClient
    engine: object
    keys: dict[str, str] = field(default_factory=dict)

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def get(self, role: str, path: str, **params):
        return self.client.get(path, params=params, headers=self.as_(role))


def customer_ids_of(owner_ids) -> set[str]:
    return {f"C{i:02d}" for i, o in enumerate(OWNERS) if o in owner_ids}


def seed(engine) -> None:
    people = {e: (n, r) for e, n, r in EMPLOYEES}
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": f"C{i:02d}", "name": f"客户{i:02d}", "uscc": None,
                                         "owner_employee_id": o, "record_count": 2, "needs_review": i == 3,
                                         "updated_at": T0 + timedelta(days=i)}
                                        for i, o in enumerate(OWNERS)])
        seed_unified(conn, EMPLOYEES, MANAGER, OWNERS, T0)
        conn.execute(insert(customer_xref), [{"ref": f"{system}:Obj:{i}", "customer_id": f"C{i:02d}", "system": system,
                                              "match_method": "uscc"}
                                             for i in range(len(OWNERS)) for system in ("crm", "u8")])
        rows = []
        for i, owner in enumerate(OWNERS):
            name, region = people.get(owner, (None, None))
            for k, (rule, severity) in enumerate(RULES):
                rows.append({"discrepancy_id": f"{rule}|crm:Obj:{i}", "rule": rule, "severity": severity,
                             "customer_id": f"C{i:02d}", "customer_name": f"客户{i:02d}", "owner": name,
                             "region": region, "amount_cents": (i * 7 + k * 3) % 10 * 10000 + i,
                             "refs": json.dumps([f"crm:Obj:{i}"]), "first_seen": T0 + timedelta(days=(i * 5 + k) % 9),
                             "last_seen": T0 + timedelta(days=20), "resolved_at": None, "status": "open"})
        rows.append({"discrepancy_id": "R6|u8:Orphan:1", "rule": "R6", "severity": "yellow", "customer_id": None,
                     "customer_name": None, "owner": None, "region": None, "amount_cents": 0,
                     "refs": json.dumps(["u8:Orphan:1"]), "first_seen": T0, "last_seen": T0, "resolved_at": None,
                     "status": "open"})
        conn.execute(insert(discrepancy), rows)
        conn.execute(insert(sync_run), [{"source": s, "started_at": T0 + timedelta(hours=h), "finished_at": T0 + timedelta(hours=h, minutes=5),
                                         "status": "succeeded" if h % 3 else "failed", "records_seen": 10 * h,
                                         "records_landed": 9 * h, "records_rejected": h, "error": None}
                                        for h, s in enumerate(["crm", "u8", "finance", "wecom", "crm"], 1)])


ROLE_GRANTS = {
    "admin": {}, "hq": {}, "finance": {}, "dashboard": {},
    "region_manager": {"regions": ["华东"]},
    "rep": {"employee_id": "E1"},
    "rep3": {"employee_id": "E3"},
}


@pytest.fixture
def hub(engine, warehouse_url, monkeypatch) -> Hub:
    from hub_api.app import create_app
    from hub_api.keys import issue_key

    monkeypatch.setenv("HUB_SECRET_KEY", "x" * 43 + "=")
    seed(engine)
    keys = {}
    with engine.begin() as conn:
        for name, grant in ROLE_GRANTS.items():
            role = "rep" if name.startswith("rep") else name
            keys[name] = issue_key(conn, name=f"test-{name}", role=role, created_by="tests", **grant)[1]
    app = create_app(warehouse_url)
    with TestClient(app) as client:
        yield Hub(client=client, engine=app.state.engine(), keys=keys)
    app.state.engine().dispose()
