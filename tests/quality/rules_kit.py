"""Hand-made unified-model rows for rule tests: small builders, one insert per table."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import insert

from hub_core.schema import customer, customer_xref
from hub_core.schema_identity import customer_record
from hub_core.schema_unified import (
    account_profile,
    credit_rating,
    dispatch,
    dispatch_line,
    employee,
    interaction,
    invoice,
    opportunity,
    receipt,
    receivable,
    sales_order,
)
from mappings.normalize import normalize_name
from quality.reconcile import reconcile

CST = timezone(timedelta(hours=8))
T = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
TODAY = date(2026, 11, 20)
H = timedelta(hours=1)
D = timedelta(days=1)
S = timedelta(seconds=1)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


class World:
    """Rows per table; ``load`` inserts them all."""

    def __init__(self):
        self.rows = defaultdict(list)
        self.employee("e1", "张三", region="华南大区", manager="e9")
        self.employee("e9", "李经理", region="华南大区")

    def add(self, table, **row):
        self.rows[table].append(row)
        return row

    def employee(self, eid, name, region=None, manager=None):
        return self.add(employee, employee_id=eid, name=name, mobile=None, region=region, manager_employee_id=manager,
                        crm_id=None, u8_code=None, wecom_userid=None, linked_by="own")

    def customer(self, cid, owner="e1"):
        return self.add(customer, customer_id=cid, name=f"客户{cid}", uscc=None, owner_employee_id=owner,
                        record_count=1, needs_review=False)

    def opp(self, oid, cid, amount, status="open", stage="proposal", close=None, modified=None, stage_changed=None,
            created=None, deleted=False, owner="e1"):
        close_at = close
        return self.add(opportunity, ref=f"crm:NewOpportunityObj:{oid}", customer_ref=None, customer_id=cid,
                        name=oid, amount_cents=round(amount * 100), stage=stage, status=status, probability=None,
                        close_at=close_at, close_day=close_at.astimezone(CST).date() if close_at else None,
                        created_at=created, modified_at=modified, stage_changed_at=stage_changed,
                        owner_employee_id=owner, is_deleted=deleted, completeness=1.0)

    def order(self, code, cid, amount, day):
        return self.add(sales_order, ref=f"u8:saleorderlist:{code}", customer_ref=None, customer_id=cid, code=code,
                        order_day=day, state="Approved", amount_cents=round(amount * 100), net_amount_cents=None,
                        owner_employee_id=None, department_code=None, created_at=None, verified_at=None,
                        ship_status=None, completeness=1.0)

    def dispatch(self, code, cid, amount, day, orders=()):
        ref = f"u8:consignmentlist:{code}"
        for n, so in enumerate(orders, 1):
            self.add(dispatch_line, ref=f"{ref}#{n}", customer_ref=None, customer_id=cid, dispatch_ref=ref, line_no=n,
                     order_ref=f"u8:saleorderlist:{so}", product_code=None, warehouse_code=None, quantity=1.0,
                     amount_cents=None, completeness=1.0)
        return self.add(dispatch, ref=ref, customer_ref=None, customer_id=cid, code=code, dispatch_day=day,
                        state=None, amount_cents=round(amount * 100), completeness=1.0)

    def receivable(self, code, cid, balance, due, raised=None, owner=None):
        return self.add(receivable, ref=f"u8:oughtreceivelist:{code}", customer_ref=None, customer_id=cid, code=code,
                        receivable_day=raised or due - timedelta(days=30), due_day=due,
                        amount_cents=round(balance * 100), balance_cents=round(balance * 100),
                        owner_employee_id=owner, completeness=1.0)

    def receipt(self, code, cid, amount, day):
        return self.add(receipt, ref=f"u8:acceptlist:{code}", customer_ref=None, customer_id=cid, code=code,
                        receipt_day=day, amount_cents=round(amount * 100), completeness=1.0)

    def invoice(self, number, cid, amount, day):
        return self.add(invoice, ref=f"u8:saleinvoicelist:{number}", customer_ref=None, customer_id=cid,
                        number=number, invoice_day=day, voucher_type="26", amount_cents=round(amount * 100),
                        completeness=1.0)

    def rating(self, code, cid, rating, previous, day):
        return self.add(credit_rating, ref=f"finance:credit_rating:{code}", rated_day=day, customer_ref=None,
                        customer_id=cid, rating=rating, previous_rating=previous, notch_change=None,
                        credit_limit_cents=None, credit_days=None, is_current=True, completeness=1.0)

    def talk(self, iid, cid, at, channel="wecom"):
        ref = f"wecom:messages:{iid}" if channel == "wecom" else f"crm:ActiveRecordObj:{iid}"
        return self.add(interaction, ref=ref,
                        customer_ref=None, customer_id=cid, channel=channel,
                        direction="in" if channel == "wecom" else "note", contact_ref=None, rep_employee_id=None,
                        sender_id=None, receiver_id=None, occurred_at=at, msg_type=None, content=None,
                        is_tech_inquiry=False, mentions_competitor=False, is_document=False,
                        with_decision_maker=False, completeness=1.0)

    def account(self, aid, cid, level="A", deleted=False, owner="e1"):
        return self.add(account_profile, ref=f"crm:AccountObj:{aid}", customer_ref=f"crm:AccountObj:{aid}",
                        customer_id=cid, name=f"客户{cid}", account_level=level, industry=None,
                        downstream_customers=None, owner_employee_id=owner, created_at=None, modified_at=None,
                        is_deleted=deleted, completeness=1.0)

    def record(self, ref, cid, name, owner=None, deleted=False):
        system, _obj, natural = ref.split(":", 2)
        self.add(customer_xref, ref=ref, customer_id=cid, system=system, match_method="own")
        return self.add(customer_record, ref=ref, system=system, natural_id=natural, name=name,
                        name_norm=normalize_name(name), owner_employee_id=owner, is_deleted=deleted,
                        content_hash="-", changed_at=datetime(2026, 1, 1, tzinfo=UTC))

    def load(self, engine):
        with engine.begin() as conn:
            for table, rows in self.rows.items():
                conn.execute(insert(table), [{k: _utc(v) for k, v in row.items()} for row in rows])
        self.rows.clear()


def _utc(value):
    """Instants go in as UTC, as the mappings store them (SQLite keeps no offset)."""
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


def run(engine, rules, as_of=T, **kw):
    """Reconcile ``rules`` as of ``as_of``, keeping the stored rows in ``result.items``."""
    return reconcile(engine, as_of=as_of, rules=rules, **{"keep_items": True, **kw})


def items(result, rule):
    """The run's items of one rule, by anchor ref."""
    return {json.loads(i["refs"])[0]: {**i, "refs": json.loads(i["refs"])} for i in result.items if i["rule"] == rule}
