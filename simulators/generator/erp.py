"""U8 documents down the chain: sales order -> dispatch -> invoice -> receivable -> receipt.

Each order ships in one or two dispatch notes, each dispatch is invoiced once, each invoice
raises one receivable that receipts settle fully, partly or not yet. Receipts never exceed
what was invoiced, and nothing is dated after now.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from .catalog import WAREHOUSES, Line
from .clock import Clock, date_text, time_text
from .deals import Order
from .jsonout import Sinks
from .numbers import VAT_PERCENT, before_tax, u8_money, u8_quantity

TEXT_NUMBERS = 0.25  # share of documents whose amounts come as numeric strings
# What the truth oracle reads of each document list (kept in memory when the lists go to files).
SLIM = {"consignmentlist": ("code", "date", "custcode", "sum", "entry"),
        "saleinvoicelist": ("invoiceno", "date", "customercode", "sum"),
        "oughtreceivelist": ("code", "date", "custcode", "balance", "duedate")}
# (invoiced cents, received cents) per U8 customer code -> receipts (day, custcode, cents, holder)
ExtraReceipts = Callable[[dict[str, int], dict[str, int]], list[tuple]]


class _Numbers:
    """Document numbers ``<prefix><yyyymm>-<seq>``, the sequence restarting every month."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seq: dict[str, int] = {}

    def next(self, day: date) -> str:
        month = day.strftime("%Y%m")
        self.seq[month] = self.seq.get(month, 0) + 1
        return f"{self.prefix}{month}-{self.seq[month]:04d}"


def _later(rng: random.Random, clock: Clock, day: date, most: int) -> date | None:
    """A day 0..``most`` days after ``day``, or None when that would be after today."""
    room = (clock.today - day).days
    if room < 0:
        return None
    return day + timedelta(days=rng.randint(0, min(most, room)))


def u8_documents(rng: random.Random, clock: Clock, orders: list[Order],
                 sinks: Sinks | None = None,
                 extra_receipts: ExtraReceipts | None = None) -> tuple[dict, list[dict], list[dict]]:
    """All U8 documents for ``orders`` (their ``code`` is assigned here, in date order), each
    list a sink; plus the orders and receipts as the truth and CRM payments read them (the very
    records when the sinks are lists, slim copies when they are files). An order with a
    ``plant`` ships, is invoiced and is paid exactly as it says (planted rule cases; the codes
    given out are written back into it). ``extra_receipts`` may add receipts once the invoiced
    and received totals per U8 customer code are known (planted R9 cases)."""
    sinks = sinks or Sinks()
    slim = sinks.folder is not None
    so_no, fh_no, ys_no, sk_no = (_Numbers(p) for p in ("SO", "FH", "YS", "SK"))
    docs = {k: sinks.new(k, keep=SLIM.get(k)) for k in (
        "saleorderlist", "consignmentlist", "saleinvoicelist", "oughtreceivelist", "acceptlist")}
    order_view: list[dict] = []
    receipt_view: list[dict] = []
    dispatches: list[tuple[Order, date, list[Line]]] = []

    for o in sorted(orders, key=lambda o: o.day):  # stable: equal days keep creation order
        o.code = so_no.next(o.day)
        age = (clock.today - o.day).days
        if age <= 2:
            state = rng.choice(("Opening", "Approved"))
        else:
            state = rng.choices(("Approved", "Closed", "Changing"), (55, 35, 10))[0]
        record = _order_record(rng, clock, o, state)
        docs["saleorderlist"].append(record)
        order_view.append({k: record[k] for k in ("code", "date", "custcode", "sum")} if slim
                          else record)
        if o.plant is not None:
            if o.plant.get("ship") is not None:
                dispatches.append((o, o.plant["ship"], o.lines))
            continue
        if state == "Opening" or age < 1 or (state != "Closed" and rng.random() < 0.12):
            continue
        first = _later(rng, clock, o.day, 12)
        if len(o.lines) >= 2 and rng.random() < 0.2:  # shipped in two lots
            cut = rng.randint(1, len(o.lines) - 1)
            second = _later(rng, clock, first, 10) or first
            dispatches += [(o, first, o.lines[:cut]), (o, second, o.lines[cut:])]
        else:
            dispatches.append((o, first, o.lines))

    invoices = []
    for o, day, lines in sorted(dispatches, key=lambda x: x[1]):
        cents = sum(x.cents for x in lines)
        text = rng.random() < TEXT_NUMBERS
        code = fh_no.next(day)
        if o.plant is not None:
            o.plant["dispatch"] = code
        docs["consignmentlist"].append({
            "code": code, "date": date_text(day), "custcode": o.customer["code"],
            "cusname": o.customer["name"], "state": "Approved", "sum": u8_money(cents, text),
            "entry": [{"socode": o.code, "inventory_code": x.item.code,
                       "warehouse_code": rng.choice(WAREHOUSES[:1] * 3 + WAREHOUSES[1:]),
                       "quantity": u8_quantity(x.quantity, text), "sum": u8_money(x.cents, text)}
                      for x in lines],
        })
        invoice_day = _later(rng, clock, day, 10)
        if o.plant is not None:
            if o.plant.get("invoice") is not None:
                invoices.append((o, o.plant["invoice"], lines))
        elif invoice_day is not None and rng.random() < 0.9:
            invoices.append((o, invoice_day, lines))

    invoice_seq = 0
    receipts: list[tuple] = []  # (day, custcode, cents[, plant dict to write the code into])
    invoiced: dict[str, int] = {}
    for o, day, lines in sorted(invoices, key=lambda x: x[1]):
        invoice_seq += 1
        cents = sum(x.cents for x in lines)
        invoiced[o.customer["code"]] = invoiced.get(o.customer["code"], 0) + cents
        text = rng.random() < TEXT_NUMBERS
        docs["saleinvoicelist"].append({
            "invoiceno": f"{invoice_seq:010d}", "date": date_text(day),
            "customercode": o.customer["code"], "vouchertype": rng.choice(("26", "26", "27")),
            "sum": u8_money(cents, text),
            "entry": [{"inventorycode": x.item.code, "quantity": u8_quantity(x.quantity, text),
                       "originalsum": u8_money(x.cents, text), "sum": u8_money(x.cents, text)}
                      for x in lines],
        })
        docs["oughtreceivelist"].append(_receivable(rng, clock, o, day, cents, ys_no, receipts))
    if extra_receipts is not None:
        received: dict[str, int] = {}
        for _, custcode, cents, *_ in receipts:
            received[custcode] = received.get(custcode, 0) + cents
        receipts += extra_receipts(invoiced, received)
    for day, custcode, cents, *holder in sorted(receipts, key=lambda r: r[0]):
        record = {"code": sk_no.next(day), "date": date_text(day), "custcode": custcode,
                  "amount": u8_money(cents, rng.random() < TEXT_NUMBERS)}
        if holder:
            holder[0]["receipt"] = record["code"]
        docs["acceptlist"].append(record)
        receipt_view.append(record)  # small: kept as is
    return docs, order_view, receipt_view


def _order_record(rng: random.Random, clock: Clock, o: Order, state: str) -> dict:
    text = rng.random() < TEXT_NUMBERS
    person = o.deal.owner if o.deal else o.company.rep
    created = clock.work_time(rng, o.day)
    rec = {
        "code": o.code, "date": date_text(o.day), "state": state,
        "custcode": o.customer["code"], "cusname": o.customer["name"],
        "deptcode": person.region.deptcode if person.region else "03",
        "personcode": person.u8_code,
        "money": u8_money(sum(before_tax(x.cents) for x in o.lines), text),
        "sum": u8_money(o.cents, text),
        "createsystime": time_text(created),
    }
    if state != "Opening":
        verified = min(created + rng.randint(10, 48 * 60) * 60_000, clock.now_ms - 60_000)
        rec["verifysystime"] = time_text(max(verified, created))
    rec["entry"] = [{
        "inventorycode": x.item.code, "inventoryname": x.item.name,
        "quantity": u8_quantity(x.quantity, text), "taxunitprice": u8_money(x.unit_cents, text),
        "taxrate": VAT_PERCENT, "money": u8_money(before_tax(x.cents), text),
        "natsum": u8_money(x.cents, text),
    } for x in o.lines]
    return rec


def _receivable(rng: random.Random, clock: Clock, o: Order, day: date, cents: int,
                ys_no: _Numbers, receipts: list[tuple[date, str, int]]) -> dict:
    """The receivable an invoice raises; the receipt settling it (if any by now) goes to
    ``receipts`` to be numbered in date order."""
    terms = o.company.credit_days
    outcome = rng.choices(("paid", "partly", "unpaid"), (78, 8, 14))[0]
    if o.plant is not None:
        outcome = "unpaid"  # planted receivables (R5) stay open
    paid = 0
    if outcome != "unpaid":
        late = rng.random() < 0.25  # a quarter pay after the due date
        receipt_day = day + timedelta(days=terms + rng.randint(1, 60) if late
                                      else rng.randint(5, terms))
        if receipt_day <= clock.today:
            paid = cents if outcome == "paid" else cents * rng.randint(30, 90) // 100
            receipts.append((receipt_day, o.customer["code"], paid))
    person = o.deal.owner if o.deal else o.company.rep
    text = rng.random() < TEXT_NUMBERS
    code = ys_no.next(day)
    if o.plant is not None:
        o.plant["receivable"] = code
    return {
        "code": code, "date": date_text(day), "custcode": o.customer["code"],
        "personcode": person.u8_code, "amount": u8_money(cents, text),
        "balance": u8_money(cents - paid, text),
        "duedate": date_text(day + timedelta(days=terms)),
    }
