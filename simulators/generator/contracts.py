"""CRM records that mirror the chain: sales orders, contracts for won deals, payments logged
from U8 receipts (some teams keep them in CRM too, never for every deal)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .clock import HOUR_MS, Clock, midnight_ms
from .codes import Ids
from .companies import Company
from .deals import WON, Deal
from .numbers import cents_of, money

CONTRACT_SHARE = 0.8  # won deals with a contract record
PAYMENT_SHARE = 0.4  # U8 receipts also logged in CRM


def crm_orders(rng: random.Random, ids: Ids, deals: list[Deal]) -> list[dict]:
    """SalesOrderObj: some teams also log the order in CRM for a share of won deals."""
    records = []
    for d in deals:
        if d.order is None or rng.random() >= 0.25:
            continue
        ms = max(midnight_ms(d.order.day), d.created_ms)
        records.append({
            "_id": ids.object_id(ms), "name": f"{d.order.day:%Y%m%d}-{len(records) + 1:06d}",
            "account_id": d.account["_id"], "new_opportunity_id": d.id, "order_time": ms,
            "order_amount": money(d.cents), "owner": [d.owner.crm_id], "create_time": ms,
            "last_modified_time": ms, "life_status": "normal", "is_deleted": False,
        })
    return records


def contracts(rng: random.Random, clock: Clock, ids: Ids, deals: list[Deal]) -> list[dict]:
    """ContractObj: the signed contract of most won deals (signed on the close date)."""
    records = []
    for d in deals:
        if d.status != WON or d.close_ms > clock.now_ms or rng.random() >= CONTRACT_SHARE:
            continue
        signed = d.close_day
        end = signed + timedelta(days=rng.choice((90, 180, 365, 365, 730)))
        created = max(d.close_ms + rng.randint(9, 18) * HOUR_MS, d.created_ms)
        created = min(created, clock.now_ms - 60_000)
        records.append({
            "_id": ids.object_id(created), "name": f"HT{signed:%Y%m%d}-{len(records) + 1:05d}",
            "account_id": d.account["_id"], "account_id__r": d.account["name"],
            "new_opportunity_id": d.id, "contract_amount": money(d.cents),
            "sign_date": midnight_ms(signed), "start_date": midnight_ms(signed),
            "end_date": midnight_ms(end), "contract_status": "执行中" if end >= clock.today else "已结束",
            "owner": [d.owner.crm_id], "record_type": "default__c", "create_time": created,
            "last_modified_time": created, "life_status": d.life_status, "is_deleted": d.is_deleted,
        })
    return records


def payments(rng: random.Random, clock: Clock, ids: Ids, receipts: list[dict],
             owner_of: dict[str, Company]) -> list[dict]:
    """PaymentObj: a share of U8 receipts (``acceptlist``) logged by the rep on the account."""
    records = []
    for r in receipts:
        c = owner_of.get(r["custcode"])
        if c is None or not c.accounts or rng.random() >= PAYMENT_SHARE:
            continue
        day = date.fromisoformat(r["date"])
        ms = min(clock.work_time(rng, day), clock.now_ms - 60_000)
        account = c.accounts[0]
        records.append({
            "_id": ids.object_id(ms), "name": f"HK{day:%Y%m%d}-{len(records) + 1:05d}",
            "account_id": account["_id"], "account_id__r": account["name"],
            "payment_amount": money(cents_of(r["amount"])), "payment_time": midnight_ms(day),
            "payment_term": rng.choice(("电汇", "电汇", "承兑汇票", "转账支票")),
            "owner": [c.rep.crm_id], "record_type": "default__c", "create_time": ms,
            "last_modified_time": ms, "life_status": "normal", "is_deleted": False,
        })
    return records
