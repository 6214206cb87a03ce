"""A warehouse with two months of discrepancy history, for report tests (and screenshots).

Rows go straight into the tables the report reads — the report is what is under test here; the
rules that produce discrepancies have their own tests.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import insert

from hub_core.schema import (
    customer,
    discrepancy,
    reconcile_run,
    stg_employee,
    stg_opportunity,
    stg_sales_order,
    sync_run,
)

AS_OF = datetime(2026, 11, 23, 8, tzinfo=timezone(timedelta(hours=8)))  # a Monday 08:00 in Shanghai
REGIONS = ["华东大区", "华南大区", "华北大区", "华中大区", "西南大区"]
RULES = ["R1", "R2", "R3", "R5", "R6", "R7", "R9"]
HOSTILE = "<script>alert(1)</script>恒通\x01建材|分公司\n"


def seed(engine, items: int = 60, seed_value: int = 5, hostile: bool = True) -> dict:
    """Insert ``items`` discrepancies spread over 8 weeks (some resolved) and their context."""
    rng = random.Random(seed_value)
    as_of = AS_OF.astimezone(UTC)
    employees = [{"employee_id": f"crm:{100 + n}", "name": name, "mobile": None, "region": REGIONS[n % 5],
                  "leader_employee_id": "crm:1" if n else None, "crm_id": str(100 + n), "u8_code": None,
                  "wecom_userid": None}
                 for n, name in enumerate(["王芳", "李强", "张伟", "刘洋", "陈静", "赵磊"])]
    employees.append({"employee_id": "crm:1", "name": "周总监", "mobile": None, "region": None,
                      "leader_employee_id": None, "crm_id": "1", "u8_code": None, "wecom_userid": None})
    rows, opps, orders, customers = [], [], [], []
    for n in range(items):
        rule = RULES[n % len(RULES)]
        owner = employees[n % 6]
        first = as_of - timedelta(days=rng.uniform(0, 120))
        resolved = first + timedelta(days=rng.uniform(1, 40)) if n % 4 == 0 else None
        if resolved and resolved > as_of:
            resolved = None
        name = HOSTILE if hostile and n == 1 else f"测试{n:02d}建材有限公司"
        cid = f"C{n:03d}"
        customers.append({"customer_id": cid, "name": name, "uscc": None, "owner_employee_id": owner["employee_id"],
                          "record_count": 1, "needs_review": False})
        opp_ref = f"crm:NewOpportunityObj:o{n}"
        refs = [opp_ref, f"u8:saleorderlist:SO{n:04d}"] if rule in ("R1", "R3", "R7") else [f"u8:doc:D{n:04d}"]
        if rule in ("R1", "R3", "R7"):
            opps.append({"ref": opp_ref, "opp_id": f"o{n}", "customer_id": cid, "name": f"{name[:6]}2026年采购项目",
                         "amount_cents": 1, "status": "won", "stage": "negotiation", "close_day": date(2026, 11, 1),
                         "is_deleted": False})
            orders.append({"ref": refs[1], "code": f"SO{n:04d}", "order_day": date(2026, 11, 2), "customer_id": cid})
        rows.append({"discrepancy_id": f"{rule}|{refs[0]}", "rule": rule, "severity": ["red", "orange", "yellow"][(n // 2) % 3],
                     "customer_id": cid, "customer_name": name, "owner": owner["name"], "region": owner["region"],
                     "amount_cents": rng.randint(1_000_00, 900_000_00), "refs": json.dumps(refs, ensure_ascii=False),
                     "first_seen": first, "last_seen": resolved or as_of, "resolved_at": resolved,
                     "status": "resolved" if resolved else ("acknowledged" if n % 7 == 3 else "open")})
    with engine.begin() as conn:
        conn.execute(insert(stg_employee), employees)
        conn.execute(insert(customer), customers)
        if opps:
            conn.execute(insert(stg_opportunity), opps)
            conn.execute(insert(stg_sales_order), orders)
        conn.execute(insert(discrepancy), rows)
        conn.execute(insert(reconcile_run), {"as_of": as_of, "started_at": as_of, "finished_at": as_of,
                                             "open_count": 0, "new_count": 0, "resolved_count": 0})
        now = datetime.now(UTC)
        conn.execute(insert(sync_run), [
            {"source": "crm", "started_at": now - timedelta(hours=1), "finished_at": now - timedelta(hours=1),
             "status": "succeeded", "records_seen": 10, "records_landed": 10, "records_rejected": 0},
            {"source": "u8", "started_at": now - timedelta(days=3), "finished_at": now - timedelta(days=3),
             "status": "succeeded", "records_seen": 5, "records_landed": 5, "records_rejected": 1},
            {"source": "u8", "started_at": now - timedelta(hours=2), "finished_at": now - timedelta(hours=2),
             "status": "failed", "records_seen": 0, "records_landed": 0, "records_rejected": 0},
            {"source": "wecom", "started_at": now, "finished_at": now, "status": "failed",
             "records_seen": 0, "records_landed": 0, "records_rejected": 0}])
    return {"rows": rows, "as_of": AS_OF}
