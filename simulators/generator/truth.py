"""What a perfect hub finds in a world: a plain reading of business-rules.md.

This oracle reads only the world's records and the by-construction identity of each master
record (which company it belongs to); it shares no logic with the planner in deals.py, so
the generator can check that the world it built says what it meant.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from .clock import DAY_MS, day_of, parse_instant, to_ms
from .numbers import cents_of, money_text
from .oracle_master import rule_items

RED_CENTS = 10_000_000
_SYSTEM_ORDER = {"crm": 0, "u8": 1, "finance": 2}


def master_refs(world: dict) -> list[str]:
    """Refs of every CRM account, U8 customer and finance rating in the world."""
    return ([f"crm:AccountObj:{r['_id']}" for r in world["crm"]["AccountObj"]]
            + [f"u8:customer:{r['code']}" for r in world["u8"]["customer"]]
            + [f"finance:credit_rating:{r['customer_code']}"
               for r in world["finance"]["credit_rating"]])


def same_customer(world: dict, company_of: dict[str, Any]) -> list[list[str]]:
    """One group per company: all its master records (a KeyError means an unowned record)."""
    groups: dict[Any, list[str]] = defaultdict(list)
    for ref in master_refs(world):
        groups[company_of[ref]].append(ref)
    ordered = [sorted(g, key=_ref_order) for g in groups.values()]
    return sorted(ordered, key=lambda g: _ref_order(g[0]))


def _ref_order(ref: str) -> tuple[int, str]:
    return _SYSTEM_ORDER[ref.split(":", 1)[0]], ref


def pair_deals(world: dict, company_of: dict[str, Any]) -> dict[str, str | None]:
    """Won opportunity ``_id`` -> paired U8 order code (None: unpaired), per the pairing rule.

    Only opportunities closed by T and orders dated by T take part. Opportunities go in order
    of close date, then id; each takes the still-unpaired order of the same customer dated on
    or after date(close) - 7 with the closest amount (ties: earlier date, then lower code).
    """
    now_ms = to_ms(parse_instant(world["meta"]["now"]))
    today = day_of(now_ms)
    orders: dict[Any, list[dict]] = defaultdict(list)
    for o in world["u8"]["saleorderlist"]:
        if date.fromisoformat(o["date"]) <= today:
            orders[company_of[f"u8:customer:{o['custcode']}"]].append(o)
    won = [d for d in world["crm"]["NewOpportunityObj"]
           if d.get("sales_status") == "2" and not d.get("is_deleted")
           and d.get("life_status") != "invalid" and d["close_date"] <= now_ms]
    won.sort(key=lambda d: (d["close_date"], d["_id"]))
    taken: set[str] = set()
    pairs: dict[str, str | None] = {}
    for d in won:
        customer = company_of[f"crm:AccountObj:{d['account_id']}"]
        first_day = day_of(d["close_date"]) - timedelta(days=7)
        amount = cents_of(d["amount"])
        candidates = [o for o in orders[customer]
                      if o["code"] not in taken and date.fromisoformat(o["date"]) >= first_day]
        best = min(candidates, default=None,
                   key=lambda o: (abs(cents_of(o["sum"]) - amount), o["date"], o["code"]))
        pairs[d["_id"]] = best["code"] if best else None
        if best:
            taken.add(best["code"])
    return pairs


def r1_items(world: dict, pairs: dict[str, str | None]) -> list[dict]:
    """R1: a won opportunity closed at least 2 days before T without a paired order."""
    now_ms = to_ms(parse_instant(world["meta"]["now"]))
    items = []
    for d in world["crm"]["NewOpportunityObj"]:
        if d["_id"] in pairs and pairs[d["_id"]] is None and d["close_date"] <= now_ms - 2 * DAY_MS:
            cents = cents_of(d["amount"])
            items.append({"rule": "R1", "severity": "red" if cents >= RED_CENTS else "orange",
                          "refs": [f"crm:NewOpportunityObj:{d['_id']}"],
                          "amount_cny": money_text(cents)})
    return items


def build_truth(world: dict, company_of: dict[str, Any],
                contact_of: dict[str, Any] | None = None) -> dict:
    """Every R1-R11 item (sorted by rule number, then refs) and the same-customer groups."""
    pairs = pair_deals(world, company_of)
    items = r1_items(world, pairs)
    if contact_of is not None:
        items += rule_items(world, company_of, contact_of, pairs)
    items.sort(key=lambda i: (int(i["rule"][1:]), i["refs"]))
    return {"discrepancies": items, "same_customer": same_customer(world, company_of)}
