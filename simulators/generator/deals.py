"""CRM opportunities and the U8 sales orders that follow the won ones.

The orders are planned so that the pairing rule of business-rules.md pairs exactly the deals
that were given an order. Every deal and order amount in the world is distinct, so a won deal
with an order always takes its own (difference 0). A won deal planted *without* an order must
not take anyone else's: it is always among its company's last won deals (pairing runs in
close order), and that company has no other order dated on or after its close date - 7.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .catalog import Line, log_uniform, quote
from .clock import DAY_MS, HOUR_MS, Clock, day_of, midnight_ms
from .codes import Ids
from .companies import Company, U8Codes, u8_customer
from .knobs import Knobs
from .people import Employee

OPEN, WON, LOST = "1", "2", "3"
PROBABILITY = {"1": 10, "2": 30, "3": 50, "4": 70, "5": 100}
DEAL_SIZE = {"S": (80_000, 1_200_000), "A": (30_000, 500_000), "B": (8_000, 200_000),
             "C": (3_000, 60_000)}
DEALS_PER_COMPANY = {"S": (4, 7), "A": (3, 5), "B": (2, 4), "C": (1, 3)}
PAIR_WINDOW_DAYS = 7
R1_AGE_MS = 2 * DAY_MS
RED_CENTS = 10_000_000  # 100000.00 CNY


@dataclass(slots=True)  # a big world holds millions
class Order:
    company: Company
    customer: dict  # the U8 customer record it is booked under
    day: date
    lines: list[Line]
    deal: Deal | None
    code: str = ""
    plant: dict | None = None  # planted rule case: fixed ship/invoice days, outcome (erp.py)

    @property
    def cents(self) -> int:
        return sum(line.cents for line in self.lines)


@dataclass(slots=True)  # a big world holds millions
class Deal:
    id: str
    company: Company
    account: dict
    owner: Employee
    status: str
    stage: str
    lines: list[Line]
    cents: int
    created_ms: int
    close_ms: int
    stage_ms: int
    modified_ms: int
    is_deleted: bool = False
    life_status: str = "normal"
    order: Order | None = None

    @property
    def close_day(self) -> date:
        return day_of(self.close_ms)

    def takes_part(self, now_ms: int) -> bool:
        """Won, not deleted and closed by now: it takes part in pairing (may get an R1)."""
        return (self.status == WON and not self.is_deleted and self.life_status != "invalid"
                and self.close_ms <= now_ms)


@dataclass
class Plan:
    """What the generator meant: R1 deal ids, and the refs of each tricky case it planted."""

    r1: list[str] = field(default_factory=list)
    cases: dict[str, list[str]] = field(default_factory=dict)
    rules: list = field(default_factory=list)  # plant_rules.Expect: R2-R11 cases and near misses


class DealMaker:
    """Builds deals and orders over one clock and one random stream."""

    def __init__(self, rng: random.Random, clock: Clock, ids: Ids, knobs: Knobs) -> None:
        self.rng, self.clock, self.ids, self.knobs = rng, clock, ids, knobs
        self.used: set[int] = set()  # every amount in cents given out so far
        self.deals: list[Deal] = []
        self.by_company: dict[int, list[Deal]] = {}
        self.orders: list[Order] = []
        self.plan = Plan()

    # -- deals ---------------------------------------------------------------------------
    def deal(self, c: Company, status: str, created_day: date, close_ms: int) -> Deal:
        """A deal on the company's main account; won/lost deals changed stage at the close."""
        rng, clock = self.rng, self.clock
        created = clock.work_time(rng, created_day)
        if status == OPEN:
            stage = rng.choice("1234")
            stage_ms = clock.work_time(rng, clock.day_between(rng, created_day, clock.today))
        else:
            stage = "5" if status == WON else rng.choice("1234")
            stage_ms = clock.work_time(rng, min(day_of(close_ms), clock.today))
        stage_ms = max(stage_ms, created + HOUR_MS)
        modified = min(stage_ms + rng.randint(0, 3 * DAY_MS), clock.now_ms - 60_000)
        lines = quote(rng, log_uniform(rng, *DEAL_SIZE[c.level]), self.used)
        # Now and then the regional manager runs the deal himself.
        manager = c.rep.leader if c.rep.leader and c.rep.leader.sells else c.rep
        owner = c.rep if rng.random() < 0.9 else manager
        d = Deal(self.ids.object_id(created), c, c.accounts[0], owner, status, stage, lines,
                 sum(x.cents for x in lines), created, close_ms, stage_ms,
                 max(modified, stage_ms))
        self.deals.append(d)
        self.by_company.setdefault(c.idx, []).append(d)
        return d

    def regular_deals(self, companies: list[Company]) -> None:
        """Each CRM company's history of deals; CRM-only ones are mostly prospects."""
        rng, clock = self.rng, self.clock
        for c in companies:
            if not c.in_crm:
                continue
            for _ in range(rng.randint(*DEALS_PER_COMPANY[c.level])):
                created = clock.day_between(rng, max(clock.start, c.since - timedelta(days=20)),
                                            clock.today - timedelta(days=1))
                age = (clock.today - created).days
                if c.kind == "crm_only":
                    weights = (55, 15, 30)
                else:
                    weights = (80, 10, 10) if age < 30 else (23, 55, 22)
                status = rng.choices((OPEN, WON, LOST), weights)[0]
                close = created + timedelta(days=rng.randint(7, 90))
                if status != OPEN and close > clock.today:
                    status = OPEN
                if status == OPEN:  # expected close; the world holds nothing dated after now
                    close = clock.day_between(rng, created, clock.today)
                self.deal(c, status, created, midnight_ms(close))

    def won(self, c: Company) -> list[Deal]:
        """The company's deals that take part in pairing, in pairing order."""
        ds = [d for d in self.by_company.get(c.idx, ()) if d.takes_part(self.clock.now_ms)]
        return sorted(ds, key=lambda d: (d.close_ms, d.id))

    # -- orders --------------------------------------------------------------------------
    def order(self, c: Company, day: date, lines: list[Line], deal: Deal | None,
              customer: dict | None = None) -> Order:
        o = Order(c, customer or c.customers[0], day, lines, deal)
        if deal is not None:
            deal.order = o
        self.orders.append(o)
        return o

    def plan_orders(self, companies: list[Company], codes: U8Codes) -> None:
        """Decide which won deals go without an order, plant the tricky cases, book orders."""
        rng, clock, knobs = self.rng, self.clock, self.knobs
        now = clock.now_ms
        orderless: set[str] = set()
        for c in companies:
            if c.kind == "crm_only":  # won, but never set up in U8: R1 when old enough
                orderless.update(d.id for d in self.won(c))
        eligible = [d for d in self.deals if d.takes_part(now) and d.close_ms <= now - R1_AGE_MS]
        target = round(knobs.r1_share * len(eligible))
        if knobs.r1_share > 0 and len(eligible) >= 4:
            target = max(target, 2)  # a red and an orange, even in a small demo
        have = sum(1 for d in eligible if d.id in orderless)
        last_won = {c.idx: self.won(c)[-1] for c in companies if c.in_u8 and self.won(c)}
        pool = [c for c in companies
                if c.idx in last_won and last_won[c.idx].close_ms <= now - R1_AGE_MS]
        for c in rng.sample(pool, min(len(pool), max(0, target - have))):
            orderless.add(last_won[c.idx].id)

        if knobs.tricky:
            self._plant_late_deals(companies, orderless)
            self._plant_ignored_deals(companies)

        with_order = [d for d in self.deals if d.takes_part(now) and d.id not in orderless]
        for d in with_order:
            roll = rng.random()
            if roll < 0.75:
                offset = rng.randint(0, 5)
            elif roll < 0.9:
                offset = rng.randint(6, 20)
            else:  # keyed into U8 before the rep closed the deal in CRM
                offset = -rng.randint(1, PAIR_WINDOW_DAYS - 1)
            day = min(d.close_day + timedelta(days=offset), clock.today)
            self.order(d.company, day, d.lines, d)

        planted = [d for d in self.deals if d.id in orderless and d.close_ms <= now - R1_AGE_MS]
        if knobs.tricky:
            self._plant_order_cases(companies, with_order, planted, codes)
        self._unlinked_orders(companies, orderless)
        self.plan.r1 = sorted(d.id for d in planted)

    def _case(self, name: str, *refs: str) -> None:
        self.plan.cases.setdefault(name, []).extend(refs)

    def _plant_late_deals(self, companies: list[Company], orderless: set[str]) -> None:
        """A won deal closed exactly 48 h before now (R1: the age limit is inclusive) and one
        closed yesterday (not R1 yet); both are their company's last won deal, without order."""
        rng, clock = self.rng, self.clock
        cases = (("r1_closed_exactly_48h_ago", clock.now_ms - R1_AGE_MS, 3),
                 ("won_yesterday_no_order_yet", midnight_ms(clock.today - timedelta(days=1)), 2))
        for name, close_ms, gap in cases:
            pool = [c for c in companies if c.in_u8 and c.in_crm
                    and all(d.close_day <= clock.today - timedelta(days=gap) for d in self.won(c))]
            if not pool:
                continue
            c = rng.choice(pool)
            created = day_of(close_ms) - timedelta(days=rng.randint(15, 60))
            d = self.deal(c, WON, max(created, c.since), close_ms)
            orderless.add(d.id)
            self._case(name, f"crm:NewOpportunityObj:{d.id}")

    def _plant_ignored_deals(self, companies: list[Company]) -> None:
        """Won deals without an order that R1 must ignore: deleted, voided, closing in future."""
        rng, clock = self.rng, self.clock
        crm = [c for c in companies if c.in_crm]
        if not crm:
            return
        for name in ("deleted_won_no_order", "invalid_won_no_order", "won_closing_after_now"):
            c = rng.choice(crm)
            if name == "won_closing_after_now":
                close = clock.today + timedelta(days=rng.randint(3, 20))
                created = clock.today - timedelta(days=rng.randint(10, 40))
            else:
                close = clock.today - timedelta(days=rng.randint(10, 200))
                created = close - timedelta(days=rng.randint(10, 60))
            d = self.deal(c, WON, max(created, clock.start), midnight_ms(close))
            d.is_deleted = name == "deleted_won_no_order"
            d.life_status = "normal" if name == "won_closing_after_now" else "invalid"
            self._case(name, f"crm:NewOpportunityObj:{d.id}")

    def _plant_order_cases(self, companies: list[Company], with_order: list[Deal],
                           planted: list[Deal], codes: U8Codes) -> None:
        rng, clock = self.rng, self.clock
        # R1 severity edges: exactly 100000.00 is red, 99999.99 orange.
        edges = [d for d in planted if d.cents not in (RED_CENTS, RED_CENTS - 1)]
        for d, cents in zip(rng.sample(edges, min(2, len(edges))), (RED_CENTS, RED_CENTS - 1)):
            if cents not in self.used:
                self.used.add(cents)
                d.cents = cents
                self._case("r1_amount_edge", f"crm:NewOpportunityObj:{d.id}")
        # Orders dated before the close: 7 days (the window's edge) and a few days.
        early = [d for d in with_order
                 if d.order and d.close_day - timedelta(days=7) >= clock.start]
        for d, back in zip(rng.sample(early, min(2, len(early))), (7, rng.randint(1, 6))):
            d.order.day = d.close_day - timedelta(days=back)
            self._case("order_dated_before_close", f"crm:NewOpportunityObj:{d.id}")
        # An order that came too early (8+ days before the close) does not pair: R1 stands.
        firsts = [d for d in planted if d.company.in_u8 and self._first_orderless(d)
                  and d.cents not in (RED_CENTS, RED_CENTS - 1)]
        if firsts:
            d = rng.choice(firsts)
            day = d.close_day - timedelta(days=rng.randint(8, 15))
            self.order(d.company, day, d.lines, None)
            self._case("r1_order_too_early", f"crm:NewOpportunityObj:{d.id}")
        # A won deal whose order sits under a second, code-less U8 record of the company.
        dup_pool = [d for d in with_order if d.order]
        if dup_pool:
            d = rng.choice(dup_pool)
            c = d.company
            dup = next((u for u in c.customers[1:]), None) or u8_customer(
                rng, clock, c, codes.next(), self.knobs, duplicate=True)
            d.order.customer = dup
            self._case("order_under_duplicate_u8_customer", f"crm:NewOpportunityObj:{d.id}",
                       f"u8:customer:{dup['code']}")

    def _first_orderless(self, d: Deal) -> bool:
        """Whether ``d`` is the first of its company's won deals that has no order."""
        return next(w for w in self.won(d.company) if w.order is None) is d

    def _unlinked_orders(self, companies: list[Company], orderless: set[str]) -> None:
        """Repeat business keyed straight into U8, never dated where an orderless won deal
        of the company could take it (on or after its close date - 7)."""
        rng, clock = self.rng, self.clock
        counts = {"S": (2, 5), "A": (1, 4), "B": (0, 2), "C": (0, 1)}
        for c in companies:
            if not c.in_u8:
                continue
            lo, hi = (2, 5) if c.kind == "erp_only" else counts[c.level]
            lo, hi = round(lo * self.knobs.repeat_orders), round(hi * self.knobs.repeat_orders)
            last = clock.today
            for d in self.won(c):
                if d.id in orderless:
                    last = min(last, d.close_day - timedelta(days=PAIR_WINDOW_DAYS + 1))
            first = max(clock.start, c.since)
            if last < first:
                continue
            for _ in range(rng.randint(lo, hi)):
                lines = quote(rng, log_uniform(rng, *DEAL_SIZE[c.level]) // 2, self.used)
                self.order(c, clock.day_between(rng, first, last), lines, None)
