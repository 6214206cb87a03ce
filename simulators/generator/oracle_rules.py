"""R2-R11 as business-rules.md "Precise default definitions" state them, read straight off the
world's records (an independent oracle: plain Python, no SQL, nothing shared with the hub).

The oracle knows the truth about identity: ``company_of`` maps every master record ref to its
real company, ``contact_of`` every WeCom external contact to the company it belongs to (the one
its ``corp_full_name``, else ``remark_corp_name``, names). Conventions (spec): timestamps compare
as instants, date-only fields as Asia/Shanghai calendar dates; thresholds are strict; records
dated or timed after T, deleted / invalid CRM records are ignored; U8 orders count in every state.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from .clock import DAY_MS, HOUR_MS, day_of, parse_instant, to_ms
from .numbers import cents_of, money_text

LADDER = ("AAA", "AA", "A", "BBB", "BB", "B", "C")  # best first
OPEN, WON = "1", "2"
LATE_STAGES = ("3", "4")  # proposal, negotiation
_MOBILE = re.compile(r"1[3-9]\d{9}")


def _alive(rec: dict, now_ms: int, time_key: str = "create_time") -> bool:
    """A CRM record that exists at T: not deleted, not invalid, not created after T."""
    return (not rec.get("is_deleted") and rec.get("life_status") != "invalid"
            and rec.get(time_key, 0) <= now_ms)


def _day(text: str) -> date:
    return date.fromisoformat(str(text)[:10])


def mobile_key(text: str | None) -> str | None:
    """A mainland mobile in plain digits (+86 / 0086 / 86, spaces and hyphens stripped)."""
    digits = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or ""))
    digits = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", digits)
    return digits if _MOBILE.fullmatch(digits) else None


def name_key(text: str | None) -> str:
    """A legal name as R6 compares it: NFKC, whitespace trimmed at both ends."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _item(rule: str, severity: str, refs: list[str], cents: int) -> dict:
    return {"rule": rule, "severity": severity, "refs": refs, "amount_cny": money_text(cents)}


class Facts:
    """The world's records grouped by real customer, as the rules read them."""

    def __init__(self, world: dict, company_of: dict[str, Any], contact_of: dict[str, Any]) -> None:
        self.now = to_ms(parse_instant(world["meta"]["now"]))
        self.today = day_of(self.now)
        crm, u8 = world["crm"], world["u8"]
        self.company_of = company_of
        acc = lambda account_id: company_of.get(f"crm:AccountObj:{account_id}")  # noqa: E731
        self.cust = lambda code: company_of.get(f"u8:customer:{code}")
        self.accounts: dict[Any, list[dict]] = defaultdict(list)
        for a in crm["AccountObj"]:
            if _alive(a, self.now):
                self.accounts[acc(a["_id"])].append(a)
        self.opps = [o for o in crm["NewOpportunityObj"] if _alive(o, self.now)]
        self.opp_customer = {o["_id"]: acc(o["account_id"]) for o in self.opps}
        self.open_by_customer: dict[Any, list[dict]] = defaultdict(list)
        for o in self.opps:
            if o.get("sales_status") == OPEN:
                self.open_by_customer[self.opp_customer[o["_id"]]].append(o)
        self.orders = [o for o in u8["saleorderlist"] if _day(o["date"]) <= self.today]
        self.order_days: dict[Any, list[date]] = defaultdict(list)
        for o in self.orders:
            self.order_days[self.cust(o["custcode"])].append(_day(o["date"]))
        self.dispatches = [d for d in u8["consignmentlist"] if _day(d["date"]) <= self.today]
        self.doc_days = {k: sorted(v) for k, v in self.order_days.items()}  # orders + dispatches
        for d in self.dispatches:
            self.doc_days.setdefault(self.cust(d["custcode"]), []).append(_day(d["date"]))
        for days in self.doc_days.values():
            days.sort()
        self.last_order = {k: max(v) for k, v in self.order_days.items()}
        # Activity: follow-ups on any account + WeCom messages with any external contact.
        self.activity: dict[Any, list[int]] = defaultdict(list)
        self.messages: dict[Any, list[int]] = defaultdict(list)
        for f in crm["ActiveRecordObj"]:
            if _alive(f, self.now):
                self.activity[acc(f["account_id"])].append(f["create_time"])
        for m in world["wecom"]["messages"]:
            if m["msgtime"] > self.now:
                continue
            owners = {contact_of[x] for x in [m["from"], *m.get("tolist", ())] if x in contact_of}
            for owner in owners:
                self.activity[owner].append(m["msgtime"])
                self.messages[owner].append(m["msgtime"])
        for times in (*self.activity.values(), *self.messages.values()):
            times.sort()

    def latest_activity(self, customer: Any) -> int | None:
        times = self.activity.get(customer)
        return times[-1] if times else None

    def active_between(self, customer: Any, first_ms: int, end_ms: int, messages: bool = False,
                       end_inclusive: bool = False) -> bool:
        """Any activity (or only WeCom messages) timed in [first, end) ([first, end] if asked)."""
        times = (self.messages if messages else self.activity).get(customer, [])
        i = bisect_left(times, first_ms)
        j = bisect_right(times, end_ms) if end_inclusive else bisect_left(times, end_ms)
        return j > i

    def documents_between(self, customer: Any, first: date, last: date) -> bool:
        days = self.doc_days.get(customer, [])
        return bisect_right(days, last) > bisect_left(days, first)


def r2_items(f: Facts, pairs: dict[str, str | None]) -> list[dict]:
    """Dispatches >= 3 days old, none of whose orders pairs with a won deal, after an open deal
    of the customer was last touched (on an earlier date)."""
    paired = {code for code in pairs.values() if code}
    items = []
    for d in f.dispatches:
        day = _day(d["date"])
        if day > f.today - timedelta(days=3) or {e.get("socode") for e in d.get("entry", ())} & paired:
            continue
        stale = [o for o in f.open_by_customer.get(f.cust(d["custcode"]), ())
                 if day_of(o["last_modified_time"]) < day]
        if stale:
            latest = max(stale, key=lambda o: (o["last_modified_time"], o["_id"]))
            items.append(_item("R2", "orange", [f"u8:consignmentlist:{d['code']}",
                                                f"crm:NewOpportunityObj:{latest['_id']}"],
                               cents_of(d["sum"])))
    return items


def r3_items(f: Facts, pairs: dict[str, str | None]) -> list[dict]:
    """Paired deal and order differ by more than max(0.5 %, 1.00); red beyond 10 %."""
    sums = {o["code"]: cents_of(o["sum"]) for o in f.orders}
    amounts = {o["_id"]: cents_of(o["amount"]) for o in f.opps}
    items = []
    for opp_id, code in pairs.items():
        if not code:
            continue
        amount, diff = amounts[opp_id], abs(sums[code] - amounts[opp_id])
        if diff * 1000 > 5 * amount and diff > 100:
            items.append(_item("R3", "red" if diff * 10 > amount else "orange",
                               [f"crm:NewOpportunityObj:{opp_id}", f"u8:saleorderlist:{code}"], diff))
    return items


def r4_items(f: Facts, ratings: list[dict]) -> list[dict]:
    """Late-stage open deals of customers without an order in 90 days whose latest rating fell
    two or more notches."""
    latest: dict[Any, dict] = {}
    for r in ratings:
        if _day(r["rated_at"]) > f.today:
            continue
        customer = f.company_of.get(f"finance:credit_rating:{r['customer_code']}")
        key = (_day(r["rated_at"]), LADDER.index(r["rating"]))
        mine = latest.get(customer)
        if mine is None or key > (_day(mine["rated_at"]), LADDER.index(mine["rating"])):
            latest[customer] = r
    fell = {k for k, r in latest.items() if r.get("previous_rating") in LADDER
            and LADDER.index(r["rating"]) - LADDER.index(r["previous_rating"]) >= 2}
    items = []
    for customer in fell:
        last = f.last_order.get(customer)
        if last is not None and last > f.today - timedelta(days=90):
            continue
        for o in f.open_by_customer.get(customer, ()):
            if o.get("sales_stage") in LATE_STAGES:
                items.append(_item("R4", "red", [f"crm:NewOpportunityObj:{o['_id']}"],
                                   cents_of(o["amount"])))
    return items


def r5_items(f: Facts, receivables: list[dict]) -> list[dict]:
    """Open receivables past their due date; red beyond 60 days."""
    items = []
    for r in receivables:
        balance = cents_of(r["balance"])
        if _day(r["date"]) > f.today or balance <= 0 or _day(r["duedate"]) >= f.today:
            continue
        late = (f.today - _day(r["duedate"])).days
        items.append(_item("R5", "red" if late > 60 else "orange",
                           [f"u8:oughtreceivelist:{r['code']}"], balance))
    return items


def r7_items(f: Facts) -> list[dict]:
    """Open deals whose latest touch (own change or customer activity) is > 48 h / 72 h / 5 d old."""
    items = []
    for customer, opps in f.open_by_customer.items():
        seen = f.latest_activity(customer)
        for o in opps:
            age = f.now - max(o["last_modified_time"], seen or 0)
            severity = ("red" if age > 5 * DAY_MS else "orange" if age > 72 * HOUR_MS
                        else "yellow" if age > 48 * HOUR_MS else None)
            if severity:
                items.append(_item("R7", severity, [f"crm:NewOpportunityObj:{o['_id']}"],
                                   cents_of(o["amount"])))
    return items


def r8_items(f: Facts) -> list[dict]:
    """Customers graded S/A in CRM without an order in the last 330 days (one per customer)."""
    items = []
    for customer, accounts in f.accounts.items():
        top = [a for a in accounts if a.get("account_level") in ("S", "A")]
        last = f.last_order.get(customer)
        if top and (last is None or last <= f.today - timedelta(days=330)):
            anchor = min(a["_id"] for a in top)
            items.append(_item("R8", "orange", [f"crm:AccountObj:{anchor}"], 0))
    return items


def r9_items(f: Facts, invoices: list[dict], receipts: list[dict]) -> list[dict]:
    """Customers whose receipts exceed their invoices by more than 1.00 (all time up to T)."""
    balance: dict[Any, int] = defaultdict(int)
    latest: dict[Any, dict] = {}
    for inv in invoices:
        if _day(inv["date"]) <= f.today:
            balance[f.cust(inv["customercode"])] -= cents_of(inv["sum"])
    for r in receipts:
        if _day(r["date"]) > f.today:
            continue
        customer = f.cust(r["custcode"])
        balance[customer] += cents_of(r["amount"])
        mine = latest.get(customer)
        if mine is None or (_day(r["date"]), r["code"]) > (_day(mine["date"]), mine["code"]):
            latest[customer] = r
    return [_item("R9", "orange", [f"u8:acceptlist:{latest[k]['code']}"], excess)
            for k, excess in balance.items() if excess > 100 and k in latest]


def r10_items(f: Facts) -> list[dict]:
    """Customers with deals won in (T - 30 d, T] but no WeCom message in [C - 30 d, C]."""
    won: dict[Any, list[dict]] = defaultdict(list)
    for o in f.opps:
        if o.get("sales_status") == WON and f.now - 30 * DAY_MS < o["close_date"] <= f.now:
            won[f.opp_customer[o["_id"]]].append(o)
    items = []
    for customer, deals in won.items():
        close = max(o["close_date"] for o in deals)
        if f.active_between(customer, close - 30 * DAY_MS, close, messages=True, end_inclusive=True):
            continue
        accounts = f.accounts.get(customer)
        if not accounts:
            continue
        deals.sort(key=lambda o: (o["close_date"], o["_id"]))
        refs = [f"crm:AccountObj:{min(a['_id'] for a in accounts)}"]
        items.append(_item("R10", "yellow", refs + [f"crm:NewOpportunityObj:{o['_id']}" for o in deals],
                           sum(cents_of(o["amount"]) for o in deals)))
    return items


def r11_items(f: Facts) -> list[dict]:
    """Open deals moved a stage in (T - 14 d, T] with no activity in [S - 14 d, S) and no order
    or dispatch dated in [date(S) - 14, date(S)]."""
    items = []
    for customer, opps in f.open_by_customer.items():
        for o in opps:
            s = o.get("stg_changed_time")
            if s is None or not f.now - 14 * DAY_MS < s <= f.now:
                continue
            if f.active_between(customer, s - 14 * DAY_MS, s):
                continue
            if f.documents_between(customer, day_of(s) - timedelta(days=14), day_of(s)):
                continue
            items.append(_item("R11", "yellow", [f"crm:NewOpportunityObj:{o['_id']}"],
                               cents_of(o["amount"])))
    return items
