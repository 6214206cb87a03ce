"""Planted R2-R5, R8 and R9 cases, each beside its near miss (just inside / just outside a
threshold), recorded as :class:`Expect` entries that the generator checks against the oracle.

Planting happens after deals and orders are planned and before any document is written. A
company carries at most one planted case family (``used``), so cases never disturb each other;
planted orders go only to companies without an orderless won deal (so no R1 deal can take them).
Every planted amount is new to the world (``maker.used``), so the pairing rule meets no tie.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import Line, log_uniform, quote
from .clock import DAY_MS, HOUR_MS, day_of, midnight_ms
from .companies import RATINGS, Company
from .deals import OPEN, Deal, DealMaker, Order


@dataclass
class Expect:
    """What the oracle must (``positive``) or must not report for ``rule`` at an anchor."""

    rule: str
    case: str
    positive: bool
    anchor: Callable[[], str]  # resolved once the documents exist (codes are given out late)
    severity: str | None = None
    amount_cents: int | None = None
    refs: Callable[[], list[str]] | None = None  # the full refs, when the case pins them


def opp_ref(d: Deal) -> str:
    return f"crm:NewOpportunityObj:{d.id}"


def account_ref(c: Company) -> str:
    return f"crm:AccountObj:{min(a['_id'] for a in c.accounts)}"


class Planter:
    """Shared helpers: company picking, controlled deals and orders, expectations."""

    def __init__(self, rng: random.Random, maker: DealMaker, companies: list[Company],
                 identity_companies: set[int]) -> None:
        self.rng, self.maker, self.companies = rng, maker, companies
        self.clock = maker.clock
        self.now, self.today = maker.clock.now_ms, maker.clock.today
        self.used: set[int] = set()
        self.identity = identity_companies
        self.expects: list[Expect] = []
        self.orders_of: dict[int, list[Order]] = {}
        for o in maker.orders:
            self.orders_of.setdefault(o.company.idx, []).append(o)
        self.dropped: set[int] = set()  # id() of unlinked orders taken out (dormant companies)
        self.special = {ref.rsplit(":", 1)[1] for refs in maker.plan.cases.values() for ref in refs}
        self.queue = self.shuffled()

    def shuffled(self) -> list[Company]:
        order = self.companies[:]
        self.rng.shuffle(order)
        return order

    # -- picking --------------------------------------------------------------------------
    def pick(self, ok: Callable[[Company], bool]) -> Company | None:
        """The next unused company (in a shuffled order) that fits; marks it used."""
        for c in self.queue:
            if c.idx not in self.used and c.idx not in self.identity and ok(c) and self._plain(c):
                self.used.add(c.idx)
                return c
        return None

    def _plain(self, c: Company) -> bool:
        """No R1 deal (it could take a planted order) and no R1 tricky case on it."""
        deals = self.maker.by_company.get(c.idx, ())
        if any(d.id in self.special for d in deals):
            return False
        return all(d.order is not None for d in self.maker.won(c))

    def linked_before(self, c: Company, day: date) -> bool:
        """All of the company's orders that follow a deal are dated before ``day``."""
        return all(o.day < day for o in self.orders_of.get(c.idx, ()) if o.deal is not None)

    def open_deals(self, c: Company) -> list[Deal]:
        return [d for d in self.maker.by_company.get(c.idx, ())
                if d.status == OPEN and not d.is_deleted and d.life_status != "invalid"]

    def recent_won(self, c: Company, days: int) -> bool:
        return any(d.close_ms > self.now - days * DAY_MS for d in self.maker.won(c))

    def clear_orders(self, c: Company, first: date) -> None:
        """Take out the company's repeat orders (no deal) dated ``first`` or later."""
        for o in self.orders_of.get(c.idx, ()):
            if o.deal is None and o.plant is None and o.day >= first:
                self.dropped.add(id(o))

    def finish(self) -> None:
        if self.dropped:
            self.maker.orders[:] = [o for o in self.maker.orders if id(o) not in self.dropped]

    # -- making ---------------------------------------------------------------------------
    def open_deal(self, c: Company, stage: str, modified_ms: int, stage_ms: int | None = None) -> Deal:
        """An open deal whose last change (and stage change) are exactly as given."""
        created = min(modified_ms, stage_ms or modified_ms) - self.rng.randint(20, 60) * DAY_MS
        d = self.maker.deal(c, OPEN, self.clock.today, midnight_ms(self.today))
        d.created_ms = created
        d.stage = stage
        d.stage_ms = stage_ms if stage_ms is not None else modified_ms - self.rng.randint(1, 9) * DAY_MS
        d.modified_ms = modified_ms
        return d

    def won_deal(self, c: Company, close_ms: int) -> Deal:
        """A won deal closed at ``close_ms`` with its own order that day (so it is no R1)."""
        created = day_of(close_ms) - timedelta(days=self.rng.randint(20, 60))
        d = self.maker.deal(c, "2", created, close_ms)
        d.stage_ms = d.modified_ms = close_ms
        o = self.maker.order(c, day_of(close_ms), d.lines, d)
        self.orders_of.setdefault(c.idx, []).append(o)
        return d

    def order(self, c: Company, day: date, plant: dict | None = None) -> Order:
        """A repeat order keyed straight into U8 on ``day`` (amount new to the world)."""
        lines = quote(self.rng, log_uniform(self.rng, 5_000, 80_000), self.maker.used)
        o = self.maker.order(c, day, lines, None)
        o.plant = plant
        self.orders_of.setdefault(c.idx, []).append(o)
        return o

    def expect(self, rule: str, case: str, positive: bool, anchor: Callable[[], str],
               severity: str | None = None, amount_cents: int | None = None,
               refs: Callable[[], list[str]] | None = None) -> None:
        self.expects.append(Expect(rule, case, positive, anchor, severity, amount_cents, refs))

    def expect_opp(self, rule: str, case: str, d: Deal, severity: str | None) -> None:
        """An opportunity-anchored expectation (amount: the opportunity amount)."""
        self.expect(rule, case, severity is not None, lambda: opp_ref(d), severity,
                    d.cents if severity else None)


def plant_money_rules(p: Planter) -> None:
    """R2, R3, R4, R5 and R8 with their near misses."""
    _plant_r3(p)
    _plant_r2(p)
    _plant_r4(p)
    _plant_r5(p)
    _plant_r8(p)


def _new_amount(p: Planter, cents: int) -> bool:
    if cents in p.maker.used:
        return False
    p.maker.used.add(cents)
    return True


def _plant_r3(p: Planter) -> None:
    """Order amounts off their deal's by the tolerance (0.5 %, floor 1.00) and the red line
    (10 %), each exactly at the edge (not beyond) and one cent past it."""
    cases = (  # name, deal amount about (cents), difference (of the amount), severity (None: no R3)
        ("r3_diff_exactly_half_percent", 4_000_000, lambda a: a // 200, None),
        ("r3_diff_half_percent_plus_1_cent", 6_000_000, lambda a: a // 200 + 1, "orange"),
        ("r3_diff_exactly_1_cny_small_deal", 15_000, lambda a: 100, None),
        ("r3_diff_1_01_cny_small_deal", 15_000, lambda a: 101, "orange"),
        ("r3_diff_exactly_10_percent", 2_500_000, lambda a: a // 10, "orange"),
        ("r3_diff_10_percent_plus_1_cent", 3_500_000, lambda a: a // 10 + 1, "red"),
    )
    for name, base, gap, severity in cases:
        for _ in range(50):  # an amount near ``base`` (10.00 steps) nobody has, on a deal that fits
            amount = base + p.rng.randint(0, 4) * 1000 * (1 + base // 100_000)
            diff = gap(amount)
            total = amount + diff if p.rng.random() < 0.5 else amount - diff
            if amount not in p.maker.used and total not in p.maker.used:
                break
        else:
            continue
        c = p.pick(lambda c, a=amount, t=total: _r3_fits(p, c, a, t))
        if c is None:
            return
        d = _r3_deal(p, c, amount, total)
        _new_amount(p, amount)
        _new_amount(p, total)
        d.cents = amount
        d.order.lines = _lines_worth(d.lines, total)
        p.expect("R3", name, severity is not None, lambda d=d: opp_ref(d), severity,
                 diff if severity else None,
                 (lambda d=d: [opp_ref(d), f"u8:saleorderlist:{d.order.code}"]) if severity else None)


def _r3_deal(p: Planter, c: Company, amount: int, total: int) -> Deal | None:
    """The company's won deal whose order stays its closest candidate after the change."""
    orders = p.orders_of.get(c.idx, ())
    for d in p.maker.won(c):
        if d.order is None:
            continue
        first = d.close_day - timedelta(days=7)
        others = [o.cents for o in orders if o is not d.order and o.day >= first]
        if all(abs(x - amount) > abs(total - amount) for x in others):
            return d
    return None


def _r3_fits(p: Planter, c: Company, amount: int, total: int) -> bool:
    return c.in_u8 and _r3_deal(p, c, amount, total) is not None


def _lines_worth(lines: list[Line], total: int) -> list[Line]:
    """Order lines like ``lines`` whose tax-inclusive sum is exactly ``total``."""
    head = lines[:-1]
    rest = total - sum(x.cents for x in head)
    if rest > 0:
        return [*(Line(x.item, x.quantity, x.unit_cents) for x in head), Line(lines[-1].item, 1, rest)]
    return [Line(lines[0].item, 1, total)]


def _plant_r2(p: Planter) -> None:
    """A dispatch 3 days old (R2) and one 2 days old (not yet) after an opportunity last touched
    10 days ago; a dispatch on the very day the opportunity was touched (no R2) and the day after."""
    ok = lambda c: c.in_crm and c.in_u8 and not p.open_deals(c)  # noqa: E731
    t = p.today
    for lmt_day, ships in ((t - timedelta(days=10), ((3, True), (2, False))),
                           (t - timedelta(days=6), ((6, False), (5, True)))):
        c = p.pick(ok)
        if c is None:
            return
        d = p.open_deal(c, p.rng.choice("234"), midnight_ms(lmt_day) + 10 * HOUR_MS)
        for back, positive in ships:
            ship = t - timedelta(days=back)
            o = p.order(c, ship - timedelta(days=2), {"ship": ship})
            anchor = lambda o=o: f"u8:consignmentlist:{o.plant['dispatch']}"  # noqa: E731
            refs = (lambda a=anchor, d=d: [a(), opp_ref(d)]) if positive else None
            p.expect("R2", f"r2_dispatch_{back}_days_ago_opp_touched_{(t - lmt_day).days}_days_ago",
                     positive, anchor, "orange" if positive else None, o.cents if positive else None, refs)


def _dormant(p: Planter, days: int) -> Company | None:
    """A company (CRM + U8 + one rating) whose deal orders are all older than ``days`` days;
    its repeat orders from then on are taken out."""
    cut = p.today - timedelta(days=days - 1)
    c = p.pick(lambda c: c.in_crm and c.in_u8 and len(c.ratings) == 1 and p.linked_before(c, cut))
    if c is not None:
        p.clear_orders(c, cut)
    return c


def _plant_r4(p: Planter) -> None:
    """2-notch downgrade + last order exactly 90 days ago: R4 for the proposal deal, not for the
    needs-stage one; last order 89 days ago, or a 1-notch downgrade: no R4."""
    cases = ((90, 2, (("3", True), ("2", False))), (89, 2, (("4", False),)), (91, 1, (("4", False),)))
    for last, notches, deals in cases:
        c = _dormant(p, 95)
        if c is None:
            return
        p.order(c, p.today - timedelta(days=last))
        rating = c.ratings[0]
        now = max(RATINGS.index(rating["rating"]), notches)
        rating["rating"], rating["previous_rating"] = RATINGS[now], RATINGS[now - notches]
        for stage, positive in deals:
            d = p.open_deal(c, stage, p.now - p.rng.randint(1, 20) * DAY_MS)
            p.expect_opp("R4", f"r4_last_order_{last}d_{notches}_notches_stage_{stage}", d,
                         "red" if positive else None)


def _plant_r5(p: Planter) -> None:
    """Open receivables due today (not overdue), 1, 60 (orange) and 61 days ago (red)."""
    c = p.pick(lambda c: c.in_u8)
    if c is None:
        return
    for past, severity in ((0, None), (1, "orange"), (60, "orange"), (61, "red")):
        due = p.today - timedelta(days=past)
        invoice = due - timedelta(days=c.credit_days)
        o = p.order(c, invoice - timedelta(days=2), {"ship": invoice, "invoice": invoice})
        p.expect("R5", f"r5_due_{past}_days_ago", severity is not None,
                 lambda o=o: f"u8:oughtreceivelist:{o.plant['receivable']}", severity,
                 o.cents if severity else None)


def _plant_r8(p: Planter) -> None:
    """A grade-A account whose last order is exactly 330 days old (R8) / 329 days old (none)."""
    for last, positive in ((330, True), (329, False)):
        c = _dormant(p, 335)
        if c is None:
            return
        for a in c.accounts:
            if a["account_level"] not in ("S", "A"):
                a["account_level"] = "A"
        p.order(c, p.today - timedelta(days=last))
        p.expect("R8", f"r8_last_order_{last}_days_ago", positive, lambda c=c: account_ref(c),
                 "orange" if positive else None, 0 if positive else None,
                 (lambda c=c: [account_ref(c)]) if positive else None)
