"""Builds one consistent company world, its truth, and checks the truth against the plan."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .activity import contact_records, follow_up_records, wecom_records
from .catalog import inventory_records
from .clock import Clock, local
from .codes import Ids
from .companies import Company, make_companies, make_master_records
from .contracts import contracts, crm_orders, payments
from .deals import LOST, OPEN, PROBABILITY, Deal, DealMaker, Plan
from .erp import u8_documents
from .evidence import case_items
from .identity import Case, plant_records, shape_companies
from .jsonout import Sinks, view_of
from .knobs import Knobs
from .namepool import NamePool
from .numbers import money
from .people import build_org, org_records
from .plant_check import GeneratorError, check_rules
from .plant_quiet import plant_quiet_rules
from .plant_rules import Planter, plant_money_rules
from .truth import build_truth, pair_deals

DEFAULT_NOW = "2026-11-20T09:00:00+08:00"
_FOLLOW_UP_VIEW = ("account_id", "create_time", "is_deleted", "life_status")
_MESSAGE_VIEW = ("from", "tolist", "msgtime")


@dataclass
class Generated:
    world: dict
    truth: dict
    plan: Plan
    company_of: dict[str, int]  # master record ref -> company index (the ground truth)
    companies: list[Company]
    cases: list[Case]  # the hard identity cases planted


def build(seed: int, customers: int = 60, now: str = DEFAULT_NOW,
          knobs: Knobs | None = None, sinks: Sinks | None = None) -> Generated:
    """The world for ``seed``, its truth, and what was planted (deterministic per arguments).
    With file ``sinks`` the biggest lists are written out as they are made (see jsonout)."""
    sinks = sinks or Sinks()
    knobs = knobs or Knobs()
    rng = random.Random(seed)
    clock = Clock(now, knobs.months)
    ids = Ids(rng)
    org = build_org(rng, ids, customers, knobs.reps)
    pool = NamePool(rng)
    companies = make_companies(rng, clock, org, ids, customers, knobs, pool)
    cases = shape_companies(rng, pool, companies, knobs)
    codes = make_master_records(rng, clock, ids, companies, knobs)
    maker = DealMaker(rng, clock, ids, knobs)
    maker.regular_deals(companies)
    maker.plan_orders(companies, codes)
    cases = plant_records(rng, clock, pool, companies, codes, knobs, cases)
    receipts_hook = None
    if knobs.plant_rules:
        planter = Planter(rng, maker, companies, {i for case in cases for i in case.companies})
        plant_money_rules(planter)
        receipts_hook = plant_quiet_rules(planter)
        planter.finish()
        maker.plan.rules = planter.expects

    staff = org_records(rng, org, clock)
    inventory, stock = inventory_records(rng, clock)
    u8_docs, order_view, receipt_view = u8_documents(rng, clock, maker.orders, sinks,
                                                     receipts_hook)
    contacts = contact_records(rng, clock, ids, companies)
    follow_ups = follow_up_records(rng, clock, ids, maker.deals, companies,
                                   sinks.new("ActiveRecordObj", keep=_FOLLOW_UP_VIEW))
    externals, messages = wecom_records(rng, clock, ids, companies, knobs.wecom_contact_share,
                                        sinks.new("messages", keep=_MESSAGE_VIEW))
    owner_of = {u["code"]: c for c in companies for u in c.customers}

    by_id = lambda r: r["_id"]  # noqa: E731
    by_code = lambda r: r["code"]  # noqa: E731
    world = {
        "meta": {"name": f"generated-{seed}", "seed": seed, "now": now, "currency": "CNY"},
        "crm": {
            "PersonnelObj": sorted(staff["PersonnelObj"], key=by_id),
            "AccountObj": sorted((a for c in companies for a in c.accounts), key=by_id),
            "ContactObj": sorted(contacts, key=by_id),
            "NewOpportunityObj": sorted((_deal_record(d) for d in maker.deals), key=by_id),
            "SalesOrderObj": sorted(crm_orders(rng, ids, maker.deals), key=by_id),
            "ContractObj": sorted(contracts(rng, clock, ids, maker.deals), key=by_id),
            "PaymentObj": sorted(payments(rng, clock, ids, receipt_view, owner_of),
                                 key=by_id),
            "ActiveRecordObj": follow_ups,  # already in _id order
        },
        "u8": {
            "person": sorted(staff["person"], key=by_code),
            "customer": sorted((u for c in companies for u in c.customers), key=by_code),
            **u8_docs,
            "inventory": inventory,
            "currentstock": stock,
        },
        "finance": {"credit_rating": sorted((r for c in companies for r in c.ratings),
                                            key=lambda r: r["customer_code"])},
        "wecom": {"follow_users": staff["follow_users"], "external_contacts": externals,
                  "messages": messages},
    }
    company_of = _identity(companies)
    contact_of = {p.external_userid: c.idx for c in companies for p in c.contacts
                  if p.external_userid}
    # The oracle reads the records it needs; with file sinks, slim copies of them.
    u8_view = {k: view_of(v) for k, v in world["u8"].items()}
    view = {**world, "u8": {**u8_view, "saleorderlist": order_view, "acceptlist": receipt_view},
            "crm": {**world["crm"], "ActiveRecordObj": view_of(follow_ups)},
            "wecom": {**world["wecom"], "messages": view_of(messages)}}
    truth = build_truth(view, company_of, contact_of)
    _check(view, truth, maker, company_of)
    check_rules(truth, maker.plan.rules)
    truth["identity_cases"] = case_items(cases, companies)
    return Generated(world, truth, maker.plan, company_of, companies, cases)


def _deal_record(d: Deal) -> dict:
    c = d.company
    name = f"{c.name.short}{local(d.created_ms).year}年{d.lines[0].item.name}采购项目"
    return {
        "_id": d.id, "name": name, "account_id": d.account["_id"],
        "account_id__r": d.account["name"], "owner": [d.owner.crm_id], "amount": money(d.cents),
        "sales_stage": d.stage, "sales_status": d.status,
        "probability": 0 if d.status == LOST else PROBABILITY[d.stage],
        "close_date": d.close_ms, "record_type": "default__c", "create_time": d.created_ms,
        "last_modified_time": d.modified_ms, "stg_changed_time": d.stage_ms,
        "life_status": d.life_status, "is_deleted": d.is_deleted,
    }


def _identity(companies: list[Company]) -> dict[str, int]:
    company_of = {}
    for c in companies:
        company_of.update({f"crm:AccountObj:{a['_id']}": c.idx for a in c.accounts})
        company_of.update({f"u8:customer:{u['code']}": c.idx for u in c.customers})
        company_of.update({f"finance:credit_rating:{r['customer_code']}": c.idx for r in c.ratings})
    return company_of


def _check(world: dict, truth: dict, maker: DealMaker, company_of: dict[str, int]) -> None:
    """The oracle must find exactly the planted R1 set, and pair every deal given an order
    with that very order (so no R3 hides in the world either)."""
    found = sorted(item["refs"][0].rsplit(":", 1)[1] for item in truth["discrepancies"]
                   if item["rule"] == "R1")
    if found != maker.plan.r1:
        missing = sorted(set(maker.plan.r1) - set(found))
        extra = sorted(set(found) - set(maker.plan.r1))
        raise GeneratorError(f"R1 truth differs from the plan: missing {missing}, extra {extra}")
    pairs = pair_deals(world, company_of)
    for d in maker.deals:
        if d.order is not None and pairs.get(d.id) != d.order.code:
            raise GeneratorError(f"deal {d.id} pairs with {pairs.get(d.id)}, not its order "
                                 f"{d.order.code}")
        if d.order is None and pairs.get(d.id):
            raise GeneratorError(f"orderless deal {d.id} took order {pairs[d.id]}")
    if sum(1 for d in maker.deals if d.status == OPEN and d.order) > 0:
        raise GeneratorError("an open deal got an order")
