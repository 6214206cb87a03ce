"""Scoped reconcile (issue #10): evaluate the rules only for the customers whose findings can
have changed since the last reconcile, with the same result as evaluating everything.

A rule's findings for customer C at T1 can differ from its findings at the previous reconcile's
T0 only if (a) a row C's findings read changed: a build since then touched C (``build_customer``,
every build since the last reconcile, unioned), or (b) the move from T0 to T1 crossed one of the
rule's time bounds for a record of C: for a condition ``key <= f(T)`` (``<``, ``>`` alike) only a
key between f(T0) and f(T1) can change its truth, and none when f(T0) = f(T1) (a day bound
within one calendar day). :func:`windows` lists those keys per rule (the closed interval, a
second wider on each side for the instants: the rules compare rounded epoch ms). Findings
without a customer are always evaluated (``quality.rules.common.in_scope``). A wider scope is never wrong, only
slower, so the windows are the union over the running rules and the pairing.

Everything that cannot be scoped so is evaluated in full (:func:`plan`): the first reconcile, a
previous run of unknown state (before migration 0019, or with no build before it: the unified
tables are written by builds only, and a warehouse filled otherwise is not tracked), other rules, thresholds or rule code
than the previous run's (``rules_hash``), a full build since (it rewrites every row; employee
changes and identity overrides force one), a build that recorded no customers, a what-if run.
The pairing is redone for the scope's customers only (it pairs per customer), and R2's
dispatches whose lines name an order whose pair changed join the scope after it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, MetaData, Table, Text, func, insert, or_, select, union

from hub_core.schema import reconcile_run
from hub_core.schema_unified import (
    account_profile,
    build_customer,
    build_run,
    credit_rating,
    dispatch,
    interaction,
    invoice,
    opportunity,
    receipt,
    receivable,
    sales_order,
)
from quality.rules.base import RuleContext

_SLACK = timedelta(seconds=1)  # instants are compared as rounded epoch ms by the rules


@dataclass
class Plan:
    """How a reconcile runs: ``full`` (and why) or ``scoped``; the latest build it saw, the hash of
    its rules (both stored on ``reconcile_run`` for the next run) and the previous run's as-of."""

    mode: str
    why: str
    build_id: int | None
    rules_hash: str
    since_build: int | None = None
    previous_as_of: datetime | None = None


def rules_hash(cfg, running: list[str]) -> str:
    """The configuration (every threshold, the pairing window, the zone), the rules that run and
    the code of the rules and of what they share: a scoped run trusts the previous run's findings
    only when all of these are the same."""
    from quality import discrepancies, pairing
    from quality.registry import rule
    from quality.rules import base, common, sqlfn

    modules = [__import__(m, fromlist=["_"]) for m in sorted({rule(r).find.__module__ for r in running})]
    modules += [discrepancies, pairing, base, common, sqlfn, __import__(__name__, fromlist=["_"])]
    try:
        sources = [inspect.getsource(m) for m in modules]
    except OSError:  # no source to read (compiled only): a hash no later run matches, so every run is full
        sources = [uuid.uuid4().hex]
    text = json.dumps([cfg.model_dump(mode="json"), running, sources], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def plan(conn: Connection, as_of: datetime, cfg, running: list[str], *, what_if: bool, full: bool) -> Plan:
    """Decide full or scoped (see the module doc)."""
    latest_build = conn.execute(select(func.max(build_run.c.id)).where(build_run.c.status == "succeeded")).scalar()
    h = rules_hash(cfg, running)

    def go_full(why: str) -> Plan:
        return Plan("full", why, latest_build, h)

    if full:
        return go_full("asked for")
    if what_if:
        return go_full("what-if run")
    r = reconcile_run.c
    prev = conn.execute(select(r.as_of, r.build_id, r.rules_hash).where(r.finished_at.is_not(None))
                        .order_by(r.as_of.desc(), r.id.desc()).limit(1)).first()
    if prev is None:
        return go_full("first reconcile")
    if prev.rules_hash is None:
        return go_full("previous reconcile's state unknown")
    if prev.build_id is None:  # rows the rules read were written by no recorded build (a test, a script)
        return go_full("no build before the previous reconcile")
    if prev.rules_hash != h:
        return go_full("rules, thresholds or rule code changed since the previous reconcile")
    b = build_run.c
    since = prev.build_id
    for row in conn.execute(select(b.id, b.mode, b.stats).where(b.id > since, b.status == "succeeded")
                            .order_by(b.id)):
        if row.mode == "full":
            return go_full(f"full build {row.id} since the previous reconcile")
        if json.loads(row.stats or "{}").get("customers_recorded", -1) < 0:
            return go_full(f"build {row.id} recorded no customers")
    return Plan("scoped", "", latest_build, h, since, _utc(prev.as_of))


def _window(column, lo, hi, slack=None):
    """``column`` between f(T0) and f(T1) (closed; widened by ``slack``), or None when equal."""
    if lo == hi:
        return None
    lo, hi = min(lo, hi), max(lo, hi)
    if slack is not None:
        lo, hi = lo - slack, hi + slack
    return column.between(lo, hi)


def windows(cfg, running: list[str], pairing: bool, t0: RuleContext, t1: RuleContext) -> dict:
    """table -> the conditions on its time keys whose truth the move from T0 to T1 can change,
    for the running rules (and the pairing). See each rule's module for the bounds."""
    o, i, s, d = opportunity.c, interaction.c, sales_order.c, dispatch.c
    out: dict = {}

    def at(table, column, days: float = 0):
        out.setdefault(table, []).append(_window(column, t0.as_of - timedelta(days=days),
                                                 t1.as_of - timedelta(days=days), _SLACK))

    def on(table, column, days: int = 0):
        out.setdefault(table, []).append(_window(column, t0.as_of_day - timedelta(days=days),
                                                 t1.as_of_day - timedelta(days=days)))

    def rc(rid):
        return cfg.rule(rid)

    run = set(running)
    if run & {"R1", "R2", "R3", "R4", "R7", "R10", "R11"}:
        at(opportunity, o.created_at)  # live_opportunity: created by T
    if pairing:
        at(opportunity, o.close_at)
        on(sales_order, s.order_day)
    if "R1" in run:
        at(opportunity, o.close_at, rc("R1").grace_days)
    if "R2" in run:
        on(dispatch, d.dispatch_day, rc("R2").days)
    if "R4" in run:
        on(credit_rating, credit_rating.c.rated_day)
        on(sales_order, s.order_day)
        on(sales_order, s.order_day, rc("R4").no_order_days)
    if "R5" in run:
        r = receivable.c
        on(receivable, r.due_day)
        on(receivable, r.due_day, rc("R5").red_days_past_due)
        on(receivable, r.receivable_day)
    if "R7" in run:
        c = rc("R7")
        at(opportunity, o.modified_at)
        at(interaction, i.occurred_at)
        for days in (c.yellow_hours / 24, c.orange_hours / 24, c.red_days):
            at(opportunity, o.modified_at, days)
            at(interaction, i.occurred_at, days)
    if "R8" in run:
        at(account_profile, account_profile.c.created_at)
        on(sales_order, s.order_day)
        on(sales_order, s.order_day, rc("R8").no_order_days)
    if "R9" in run:
        on(receipt, receipt.c.receipt_day)
        on(invoice, invoice.c.invoice_day)
    if "R10" in run:
        at(opportunity, o.close_at)
        at(opportunity, o.close_at, rc("R10").won_days)
    if "R11" in run:
        at(opportunity, o.stage_changed_at)
        at(opportunity, o.stage_changed_at, rc("R11").recent_days)
    return {table: [c for c in conds if c is not None] for table, conds in out.items()
            if any(c is not None for c in conds)}


def scope_table(conn: Connection) -> Table:
    """A temporary table of the scope's customer ids (the session's own; dropped by the caller)."""
    table = Table("reconcile_scope", MetaData(), Column("customer_id", Text, primary_key=True),
                  prefixes=["TEMPORARY"])
    table.drop(conn, checkfirst=True)
    table.create(conn)
    return table


def fill(conn: Connection, table: Table, p: Plan, conds: dict) -> int:
    """The scope: every customer a build since the previous reconcile touched, and every customer
    with a record whose time key lies in one of ``conds``' windows. Returns its size."""
    parts = [select(build_customer.c.customer_id).where(build_customer.c.build_id > p.since_build,
                                                        build_customer.c.build_id <= (p.build_id or 0))]
    for t, cs in conds.items():
        parts.append(select(t.c.customer_id).where(t.c.customer_id.is_not(None), or_(*cs)))
    every = union(*parts).subquery() if len(parts) > 1 else parts[0].distinct().subquery()
    conn.execute(insert(table).from_select(["customer_id"], select(every.c[0])))
    size = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table.name}")  # a temporary table has no statistics otherwise
    return size


def forget_recorded(conn: Connection, build_id: int | None) -> None:
    """After a reconcile: the builds' customers up to the build it saw are no longer needed."""
    if build_id is not None:
        conn.execute(build_customer.delete().where(build_customer.c.build_id <= build_id))
