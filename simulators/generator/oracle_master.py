"""R6 (master-data conflicts) and the whole R2-R11 truth (see oracle_rules.py for the rest)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .oracle_rules import (
    Facts,
    _alive,
    _day,
    _item,
    mobile_key,
    name_key,
    r2_items,
    r3_items,
    r4_items,
    r5_items,
    r7_items,
    r8_items,
    r9_items,
    r10_items,
    r11_items,
)


def r6_items(f: Facts, world: dict) -> list[dict]:
    """One per customer whose CRM / U8 / finance names differ after NFKC + trim, whose CRM
    owner and U8 rep are different known employees (by mobile), or who is in U8 or finance but
    not in CRM. Anchor: lowest CRM ``_id``, else lowest U8 code, else the rating."""
    crm, u8 = world["crm"], world["u8"]
    crm_mobile = {p["_id"]: mobile_key(p.get("mobile")) for p in crm["PersonnelObj"] if _alive(p, f.now)}
    u8_mobile = {p["code"]: mobile_key(p.get("mobile")) for p in u8["person"]}
    records: dict[Any, dict[str, list[dict]]] = defaultdict(lambda: {"crm": [], "u8": [], "finance": []})
    for customer, accounts in f.accounts.items():
        records[customer]["crm"] = sorted(accounts, key=lambda a: a["_id"])
    for u in u8["customer"]:
        records[f.cust(u["code"])]["u8"].append(u)
    for r in world["finance"]["credit_rating"]:
        if _day(r["rated_at"]) <= f.today:
            records[f.company_of.get(f"finance:credit_rating:{r['customer_code']}")]["finance"].append(r)
    items = []
    for recs in records.values():
        accounts = recs["crm"]
        customers = sorted(recs["u8"], key=lambda u: u["code"])
        ratings = sorted(recs["finance"], key=lambda r: r["customer_code"])
        names = {name_key(a.get("name")) for a in accounts} | {name_key(u.get("name")) for u in customers}
        names |= {name_key(r.get("customer_name")) for r in ratings}
        owners = {crm_mobile.get((a.get("owner") or [None])[0]) for a in accounts} - {None}
        reps = {u8_mobile.get(u.get("spec_operator")) for u in customers} - {None}
        owner_conflict = bool(owners and reps and len(owners | reps) > 1)
        if not (len(names) > 1 or owner_conflict or not accounts):
            continue
        refs = ([f"crm:AccountObj:{a['_id']}" for a in accounts]
                + [f"u8:customer:{u['code']}" for u in customers]
                + [f"finance:credit_rating:{r['customer_code']}" for r in ratings])
        items.append(_item("R6", "yellow", refs, 0))
    return items


def rule_items(world: dict, company_of: dict[str, Any], contact_of: dict[str, Any],
               pairs: dict[str, str | None]) -> list[dict]:
    """Every R2-R11 item of the world (R1 lives in truth.py with the pairing)."""
    f = Facts(world, company_of, contact_of)
    u8 = world["u8"]
    return (r2_items(f, pairs) + r3_items(f, pairs) + r4_items(f, world["finance"]["credit_rating"])
            + r5_items(f, u8["oughtreceivelist"]) + r6_items(f, world) + r7_items(f) + r8_items(f)
            + r9_items(f, u8["saleinvoicelist"], u8["acceptlist"]) + r10_items(f) + r11_items(f))
