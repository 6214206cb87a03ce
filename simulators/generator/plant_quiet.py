"""Planted R6, R7, R9, R10 and R11 cases with their near misses (see plant_rules.py).

The activity rules need a customer whose interactions are known to the second: such a company
goes *quiet* (``Company.quiet_ms``: activity.py drops its follow-ups and messages after that
instant) and gets the exact interactions a case needs (``Company.extra_activity``).
"""

from __future__ import annotations

from datetime import timedelta

from .clock import DAY_MS, HOUR_MS, day_of
from .companies import Company
from .erp import ExtraReceipts
from .plant_rules import Planter, account_ref, opp_ref

SECOND = 1000


def plant_quiet_rules(p: Planter) -> ExtraReceipts:
    """R6, R7, R10, R11 now; R9 once the invoices exist (the returned receipts hook)."""
    _plant_r7(p)
    _plant_r10(p)
    _plant_r11(p)
    _plant_r6(p)
    return _plant_r9(p)


def _quiet(p: Planter, ok=lambda c: True, since_ms: int | None = None) -> Company | None:
    c = p.pick(lambda c: c.in_crm and ok(c))
    if c is not None:
        c.quiet_ms = since_ms if since_ms is not None else p.now - 40 * DAY_MS
    return c


def _plant_r7(p: Planter) -> None:
    """Open deals last touched exactly 48 h / 72 h / 5 days ago (the lower severity or none)
    and one second earlier (the next one); an old deal kept fresh by a customer message 47 h
    ago (no R7) or by a follow-up 73 h ago (orange)."""
    c = _quiet(p, since_ms=p.now - 8 * DAY_MS)
    if c is None:
        return
    edges = ((48, 0, None), (48, 1, "yellow"), (72, 0, "yellow"), (72, 1, "orange"),
             (120, 0, "orange"), (120, 1, "red"))
    for hours, extra, severity in edges:
        d = p.open_deal(c, p.rng.choice("1234"), p.now - hours * HOUR_MS - extra * SECOND)
        p.expect_opp("R7", f"r7_untouched_{hours}h{'_plus_1s' if extra else ''}", d, severity)
    for kind, hours, severity in (("msg_in", 47, None), ("note", 73, "orange")):
        c = _quiet(p, since_ms=p.now - 8 * DAY_MS)
        if c is None:
            return
        c.extra_activity.append((p.now - hours * HOUR_MS, kind))
        d = p.open_deal(c, p.rng.choice("1234"), p.now - 6 * DAY_MS)
        p.expect_opp("R7", f"r7_old_deal_{kind}_{hours}h_ago", d, severity)


def _plant_r10(p: Planter) -> None:
    """Won deals closed in the last 30 days with the customer's last WeCom message exactly
    30 days before the close (no R10) or a second more (R10); a deal closed exactly 30 days
    ago (outside the window); two recent deals with only a follow-up and a message after the
    close (R10 over both)."""
    close = p.now - 5 * DAY_MS - 3 * HOUR_MS
    cases = (("r10_message_30d_before_close", ((close, 30 * DAY_MS),), False),
             ("r10_message_30d_1s_before_close", ((close, 30 * DAY_MS + SECOND),), True),
             ("r10_closed_exactly_30d_ago", ((p.now - 30 * DAY_MS, None),), False),
             ("r10_note_and_late_message_only", ((close - 15 * DAY_MS, None), (close, -HOUR_MS)),
              True))
    for name, deals, positive in cases:
        c = _quiet(p, lambda c: c.in_u8 and not p.recent_won(c, 75), p.now - 75 * DAY_MS)
        if c is None:
            return
        won = []
        for close_ms, before in deals:
            won.append(p.won_deal(c, close_ms))
            if before is not None:
                c.extra_activity.append((close_ms - before, "msg_in" if before > 0 else "msg_out"))
        if name == "r10_note_and_late_message_only":
            c.extra_activity.append((close - DAY_MS, "note"))
        refs = lambda c=c, won=won: [account_ref(c)] + [opp_ref(d) for d in won]  # noqa: E731
        p.expect("R10", name, positive, lambda c=c: account_ref(c), "yellow" if positive else None,
                 sum(d.cents for d in won) if positive else None, refs if positive else None)


def _plant_r11(p: Planter) -> None:
    """Stage moved 3 days ago (S): a follow-up exactly at S or 14 days + 1 s before it leaves
    the move unsupported (R11); a message exactly 14 days before, or an order dated
    date(S) - 14, supports it; date(S) - 15 does not; a move exactly 14 days ago is too old."""
    s3 = p.now - 3 * DAY_MS - 2 * HOUR_MS
    s14 = p.now - 14 * DAY_MS
    cases = (("r11_note_exactly_at_stage_change", s3, (s3, "note"), None, True),
             ("r11_message_exactly_14d_before", s3, (s3 - 14 * DAY_MS, "msg_in"), None, False),
             ("r11_note_14d_1s_before", s3, (s3 - 14 * DAY_MS - SECOND, "note"), None, True),
             ("r11_order_dated_14d_before", s3, None, 14, False),
             ("r11_order_dated_15d_before", s3, None, 15, True),
             ("r11_stage_changed_exactly_14d_ago", s14, None, None, False))
    for name, stage_ms, activity, order_back, positive in cases:
        first = day_of(stage_ms) - timedelta(days=45)
        c = _quiet(p, lambda c, f=first: c.in_u8 and p.linked_before(c, f),
                   stage_ms - 20 * DAY_MS)
        if c is None:
            return
        p.clear_orders(c, first)
        if activity is not None:
            c.extra_activity.append(activity)
        if order_back is not None:  # an order keyed in but not shipped yet
            p.order(c, day_of(stage_ms) - timedelta(days=order_back), {"ship": None})
        d = p.open_deal(c, p.rng.choice("234"), min(stage_ms + HOUR_MS, p.now - 60_000), stage_ms)
        p.expect_opp("R11", name, d, "yellow" if positive else None)


def _plant_r6(p: Planter) -> None:
    """One customer per case with a single CRM account, U8 customer and rating, all named
    alike: names equal only after NFKC + trimming (no R6), legal form differs (R6), U8 rep is
    another employee (R6), everything alike, the same rep on both sides (no R6)."""
    ok = lambda c: (c.kind == "full" and len(c.accounts) == 1 and len(c.customers) == 1  # noqa: E731
                    and len(c.ratings) == 1 and c.rep.leader is not None)
    for name, positive in (("r6_names_equal_after_nfkc_trim", False), ("r6_legal_form_differs", True),
                           ("r6_u8_rep_is_another_employee", True), ("r6_records_agree", False)):
        c = p.pick(ok)
        if c is None:
            return
        legal = c.name.legal
        account, customer, rating = c.accounts[0], c.customers[0], c.ratings[0]
        account["name"] = customer["name"] = rating["customer_name"] = legal
        if name == "r6_names_equal_after_nfkc_trim":
            account["name"] = "\u3000" + legal.replace("(", "（").replace(")", "）") + " "
        elif name == "r6_legal_form_differs":
            other = "股份有限公司" if not legal.endswith("股份有限公司") else "有限公司"
            customer["name"] = c.name.with_suffix(other)
        elif name == "r6_u8_rep_is_another_employee":
            customer["spec_operator"] = c.rep.leader.u8_code
        refs = lambda c=c: [account_ref(c), f"u8:customer:{c.customers[0]['code']}",  # noqa: E731
                            f"finance:credit_rating:{c.ratings[0]['customer_code']}"]
        p.expect("R6", name, positive, lambda c=c: account_ref(c), "yellow" if positive else None,
                 0 if positive else None, refs if positive else None)


def _plant_r9(p: Planter) -> ExtraReceipts:
    """Receipts today that leave the customer paid 1.00 over its invoices (no R9), 1.01 over
    (R9) or a 20000 advance with no invoice behind it (R9)."""
    planted = []
    for name, excess in (("r9_excess_exactly_1_00", 100), ("r9_excess_1_01", 101),
                         ("r9_advance_payment", 2_000_000 + p.rng.randint(0, 99_999))):
        c = p.pick(lambda c: c.in_u8)
        if c is None:
            break
        holder: dict = {}
        planted.append((c, excess, holder))
        positive = excess > 100
        p.expect("R9", name, positive, lambda h=holder: f"u8:acceptlist:{h['receipt']}",
                 "orange" if positive else None, excess if positive else None)

    def receipts(invoiced: dict[str, int], received: dict[str, int]) -> list[tuple]:
        out = []
        for c, excess, holder in planted:
            codes = [u["code"] for u in c.customers]
            owed = sum(invoiced.get(k, 0) - received.get(k, 0) for k in codes)
            out.append((p.today, c.customers[0]["code"], owed + excess, holder))
        return out

    return receipts

