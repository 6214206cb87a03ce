"""Discrepancy lifecycle: age, acknowledge, resolve, reopen, and what-if runs that change nothing."""

import hashlib
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from hub_core.schema import discrepancy, reconcile_run
from hub_core.schema_unified import receivable
from tests.quality.rules_kit import D, T, World, days_ago, run

REF = "u8:oughtreceivelist:R1"


def _row(engine):
    with engine.connect() as conn:
        row = conn.execute(select(discrepancy).where(discrepancy.c.discrepancy_id == f"R5|{REF}")).one()
    return row


def _at(moment):
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _balance(engine, yuan):
    with engine.begin() as conn:
        conn.execute(update(receivable).where(receivable.c.ref == REF).values(balance_cents=round(yuan * 100)))


def _snapshot(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(discrepancy).order_by(discrepancy.c.discrepancy_id)).all()
        runs = conn.execute(select(func.count()).select_from(reconcile_run)).scalar()
    return [tuple(r) for r in rows], runs


def test_age_acknowledge_resolve_reopen_and_what_if(engine):
    w = World()
    w.customer("A")
    w.receivable("R1", "A", 10, days_ago(3))
    w.load(engine)

    first = run(engine, ["R5"])
    assert (first.persisted.new, first.what_if) == (1, False)
    row = _row(engine)
    assert (row.status, _at(row.first_seen), row.fingerprint) == (
        "open", T, hashlib.sha256(f"R5|{REF}".encode()).hexdigest())
    assert (row.owner, row.manager, row.region) == ("张三", "李经理", "华南大区")

    with engine.begin() as conn:  # someone acknowledges it
        conn.execute(update(discrepancy).values(status="acknowledged"))
    _balance(engine, 11)  # partly changed: the amount follows, the acknowledgement stays
    second = run(engine, ["R5"], as_of=T + D)
    assert second.persisted.persisting == 1 and second.persisted.new == 0
    row = _row(engine)
    assert (row.status, _at(row.first_seen), _at(row.last_seen), row.amount_cents) == ("acknowledged", T, T + D, 1100)
    run(engine, ["R5"], as_of=T + D + D / 2)  # nothing changed: only last_seen moves
    assert (_row(engine).status, _at(_row(engine).last_seen)) == ("acknowledged", T + D + D / 2)

    # What-if: an earlier as-of computes, returns, and stores nothing.
    before = _snapshot(engine)
    what_if = run(engine, ["R5"], as_of=T - D)
    assert what_if.what_if and what_if.found == {"R5": 1}
    assert [i["status"] for i in what_if.items] == ["acknowledged"]
    assert _snapshot(engine) == before

    _balance(engine, 0)  # paid: it resolves
    third = run(engine, ["R5"], as_of=T + 2 * D)
    assert third.persisted.resolved == 1
    row = _row(engine)
    assert (row.status, _at(row.resolved_at), _at(row.first_seen)) == ("resolved", T + 2 * D, T)

    _balance(engine, 12.34)
    # A what-if before the resolution must not reopen it or rewrite its history.
    before = _snapshot(engine)
    assert run(engine, ["R5"], as_of=T + D).what_if
    assert _snapshot(engine) == before

    fourth = run(engine, ["R5"], as_of=T + 3 * D)  # it came back: reopens, history kept
    assert (fourth.persisted.reopened, fourth.persisted.new) == (1, 0)
    row = _row(engine)
    assert (row.status, row.resolved_at, _at(row.first_seen), _at(row.reopened_at), row.amount_cents) == (
        "open", None, T, T + 3 * D, 1234)
    assert row.fingerprint == hashlib.sha256(f"R5|{REF}".encode()).hexdigest()  # stable across runs


def test_rules_not_run_are_left_alone(engine):
    w = World()
    w.customer("A")
    w.receivable("R1", "A", 10, days_ago(3))
    w.opp("o", "A", 5, modified=T - 3 * D)
    w.load(engine)
    run(engine, ["R5", "R7"])
    with engine.begin() as conn:
        conn.execute(update(receivable).values(balance_cents=0))
    result = run(engine, ["R7"], as_of=T + D)  # R5 not asked for: its item stays open
    assert set(result.found) == {"R7"}
    assert _row(engine).status == "open"


def test_first_run_is_never_a_what_if(engine):
    result = run(engine, ["R5"], as_of=datetime(2020, 1, 1, tzinfo=UTC))
    assert not result.what_if
