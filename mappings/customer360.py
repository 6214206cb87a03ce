"""Rebuild ``customer_360``: one row per unified customer, as of a given instant.

Each block of columns is one grouped SQL aggregate over a unified table (records dated or timed
after the as-of time do not exist yet), read in customer order a batch at a time; Python merges
the blocks customer by customer as they come (:class:`_InStep`), applies the health score and
grade (mappings/health.py) and writes the rows in batches. Memory is a batch per block, whatever
the number of customers (each block used to be a dict over every customer: 20 MB more at 10k
customers, 130 MB at 30k). docs/data-model.md defines every column.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from statistics import median

from sqlalchemy import Connection, and_, case, delete, func, select, union_all, update

from hub_core.schema import customer, metadata, sync_run
from hub_core.schema_publish import customer_360_candidate
from hub_core.schema_unified import (
    account_profile,
    credit_rating,
    customer_360,
    employee,
    interaction,
    opportunity,
    product,
    receipt,
    receivable,
    sales_order,
    sales_order_line,
)
from hub_core.settings import LANDED_STATUSES
from hub_core.sql import among, codepoint_order
from mappings.c360_asof import day_of, moved_customers, rescore
from mappings.c360_config import C360Config
from mappings.health import grade, health_score
from mappings.staging import insert_batched


def _utc(moment: datetime | None) -> datetime | None:
    """Instants read back from SQLite are naive UTC; make every instant aware."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


BATCH = 2000  # rows each block's cursor fetches at a time: what the build holds per block


def _ordered(conn: Connection, query, column, *then):
    """Run ``query`` ordered by customer id in code-point order (what Python's ``<`` on str is),
    then by ``then``, fetching ``BATCH`` rows at a time (PostgreSQL: a server-side cursor)."""
    return conn.execute(query.order_by(codepoint_order(conn, column), *then).execution_options(yield_per=BATCH))


def _per_customer(conn: Connection, query, column) -> Iterator[tuple[str, dict]]:
    """(customer_id, row) of a query grouped by customer, in customer order (made dicts without a
    Row per column look-up: this runs for every customer on every full build)."""
    result = _ordered(conn, query, column)
    keys = list(result.keys())
    for values in result:
        row = dict(zip(keys, values))
        if row["customer_id"] is not None:
            yield row["customer_id"], row


def _of(conn, query, column, only: list[str] | None):
    """``query`` limited to the customers in ``only`` (None: every customer)."""
    return query if only is None else query.where(among(column, only))


def _owners(conn: Connection, only=None) -> Iterator[tuple[str, dict]]:
    mgr = employee.alias("mgr")
    e = employee.c
    query = select(customer.c.customer_id, customer.c.name, customer.c.owner_employee_id,
                   e.name.label("owner_name"), e.region, e.manager_employee_id, mgr.c.name.label("manager_name")
                   ).outerjoin(employee, e.employee_id == customer.c.owner_employee_id
                               ).outerjoin(mgr, mgr.c.employee_id == e.manager_employee_id)
    return _per_customer(conn, _of(conn, query, customer.c.customer_id, only), customer.c.customer_id)


def _opportunities(conn, as_of, only=None):
    o = opportunity.c
    return _per_customer(conn, _of(conn, select(o.customer_id, func.count().label("open_opportunities"),
                                          func.sum(o.amount_cents).label("open_opportunity_cents"))
                                   .where(o.status == "open", o.is_deleted.is_(False),
                                          (o.created_at.is_(None)) | (o.created_at <= as_of)), o.customer_id, only)
                         .group_by(o.customer_id), o.customer_id)


def _orders(conn, day: date, cfg: C360Config, only=None):
    s = sales_order.c
    since = day - timedelta(days=cfg.windows.revenue_days)
    return _per_customer(conn, _of(conn, select(s.customer_id, func.max(s.order_day).label("last_order_day"),
                                          func.coalesce(func.sum(case((s.order_day > since, s.amount_cents),
                                                                      else_=0)), 0).label("revenue_12m_cents"))
                                   .where(s.order_day <= day), s.customer_id, only).group_by(s.customer_id),
                         s.customer_id)


def _receivables(conn, day: date, only=None):
    r = receivable.c
    open_ = r.balance_cents > 0
    return _per_customer(conn, _of(conn, select(
        r.customer_id,
        func.coalesce(func.sum(case((open_, r.balance_cents), else_=0)), 0).label("receivable_outstanding_cents"),
        func.coalesce(func.sum(case((and_(open_, r.due_day < day), r.balance_cents), else_=0)), 0)
        .label("receivable_overdue_cents"))
        .where(r.receivable_day <= day), r.customer_id, only).group_by(r.customer_id), r.customer_id)


def _receipts(conn, day: date, only=None) -> Iterator[tuple[str, dict]]:
    r = receipt.c
    rows = _ordered(conn, _of(conn, select(r.customer_id, r.receipt_day, func.sum(r.amount_cents).label("cents"))
                              .where(r.receipt_day <= day, r.customer_id.is_not(None)), r.customer_id, only)
                    .group_by(r.customer_id, r.receipt_day), r.customer_id)
    for cid, days in groupby(rows, key=itemgetter(0)):
        last = max(((rday, cents) for _, rday, cents in days), key=itemgetter(0))
        yield cid, {"last_receipt_day": last[0], "last_receipt_cents": last[1]}


def _ratings(conn, day: date, ranks: dict[str, int], only=None) -> Iterator[tuple[str, dict]]:
    """Latest rating (latest rated day; on a tie, the worse rating) and its notch change."""
    r = credit_rating.c
    rows = _ordered(conn, _of(conn, select(r.customer_id, r.rated_day, r.rating, r.previous_rating, r.notch_change)
                              .where(r.rated_day <= day, r.customer_id.is_not(None)), r.customer_id, only),
                    r.customer_id, r.ref)
    for cid, of_customer in groupby(rows, key=itemgetter(0)):
        best = None
        for row in of_customer:
            key = (row.rated_day, -int(ranks.get(row.rating, 0)))
            if best is None or key > best[0]:
                best = (key, row)
        row = best[1]
        yield cid, {"credit_rating": row.rating, "previous_credit_rating": row.previous_rating,
                    "credit_rating_change": row.notch_change, "credit_rated_day": row.rated_day}


def _interactions(conn, as_of: datetime, cfg: C360Config, only=None):
    i = interaction.c
    recent = as_of - timedelta(days=cfg.windows.interactions_days)
    signal = as_of - timedelta(days=cfg.windows.signals_days)
    return _per_customer(conn, _of(conn, select(
        i.customer_id, func.max(i.occurred_at).label("last_contact_at"),
        _count_if(i.occurred_at > recent).label("interactions_30d"),
        _count_if(and_(i.occurred_at > signal, i.is_tech_inquiry)).label("tech_inquiries_90d"),
        _count_if(and_(i.occurred_at > recent, i.with_decision_maker)).label("decision_maker_interactions_30d"),
        _count_if(and_(i.occurred_at > signal, i.mentions_competitor)).label("competitor_mentions_90d"),
        _count_if(and_(i.occurred_at > recent, i.is_document)).label("document_events_30d"))
        .where(i.occurred_at <= as_of), i.customer_id, only).group_by(i.customer_id), i.customer_id)


def _product_series(conn, day: date, cfg: C360Config, only=None):
    s, ln, p = sales_order.c, sales_order_line.c, product.c
    since = day - timedelta(days=cfg.windows.signals_days)
    return _per_customer(conn, _of(conn, select(s.customer_id,
                                          func.count(p.class_code.distinct()).label("product_series_90d"))
                                   .select_from(sales_order_line.join(sales_order, s.ref == ln.order_ref)
                                                .join(product, p.code == ln.product_code))
                                   .where(s.order_day > since, s.order_day <= day), s.customer_id, only)
                         .group_by(s.customer_id), s.customer_id)


def _response_minutes(conn, as_of: datetime, cfg: C360Config, only=None) -> Iterator[tuple[str, dict]]:
    """Median minutes from a customer's first unanswered message to the rep's next message to the
    same contact (messages in the signal window). A customer message that follows the previous
    one by more than ``response_zero_minutes`` starts a new conversation: the earlier one (a
    closing "thanks") is not waiting for an answer. Unanswered conversations do not count."""
    i = interaction.c
    since = as_of - timedelta(days=cfg.windows.signals_days)
    rows = _ordered(conn, _of(conn, select(i.customer_id, i.contact_ref, i.direction, i.occurred_at)
                              .where(i.customer_id.is_not(None), i.contact_ref.is_not(None),
                                     i.direction.in_(["in", "out"]), i.occurred_at > since, i.occurred_at <= as_of),
                              i.customer_id, only),
                    # a full order: messages at the same instant ("in" before "out", then by ref) must
                    # give the same answer whatever order the rows were landed in
                    i.customer_id, i.contact_ref, i.occurred_at, i.direction, i.ref)
    closed = timedelta(minutes=cfg.health.response_zero_minutes)
    for cid, messages in groupby(rows, key=itemgetter(0)):
        waits: list[float] = []
        pending, last_in, current = None, None, None
        for _, contact_ref, direction, at in messages:
            if contact_ref != current:
                current, pending, last_in = contact_ref, None, None
            at = _utc(at)
            if direction == "in":
                if pending is None or at - last_in > closed:  # a new conversation starts the clock
                    pending = at
                last_in = at
            elif pending is not None:
                waits.append((at - pending).total_seconds() / 60)
                pending = None
        if waits:
            yield cid, {"response_minutes": round(median(waits), 1)}


def _completeness(conn, threshold: float, only=None) -> Iterator[tuple[str, dict]]:
    """Share of a customer's unified records (all entity tables) whose completeness >= threshold."""
    parts = [_of(conn, select(t.c.customer_id, t.c.completeness), t.c.customer_id, only) for t in metadata.tables.values()
             if "customer_id" in t.c and "completeness" in t.c
             and t.name not in (customer_360.name, customer_360_candidate.name)]
    both = union_all(*parts).subquery()
    query = select(both.c.customer_id, func.count().label("n"),
                   _count_if(both.c.completeness >= threshold).label("ok")).group_by(both.c.customer_id)
    for cid, n, ok in _ordered(conn, query, both.c.customer_id):
        if cid is not None and n:
            yield cid, {"completeness": round(ok / n, 4)}


def _freshness(conn, sources: dict[str, str], cfg: C360Config) -> dict:
    s = sync_run.c
    last = dict(conn.execute(select(s.source, func.max(s.finished_at)).where(
        s.status.in_(LANDED_STATUSES),
        s.deletions_withheld.is_(None),  # a pass too small to believe is no fresh data (the source is stale)
    ).group_by(s.source)).all())
    return {f"{system}_synced_at": _utc(last.get(sources.get(system, system))) for system in cfg.systems
            if f"{system}_synced_at" in customer_360.c}


def _profiles(conn, only=None) -> Iterator[tuple[str, dict]]:
    """CRM level of the customer's first account (by ref) that has one; the largest downstream count."""
    a = account_profile.c
    query = _of(conn, select(a.customer_id, a.account_level, a.downstream_customers)
                .where(a.customer_id.is_not(None), a.is_deleted.is_(False)), a.customer_id, only)
    for cid, accounts in groupby(_ordered(conn, query, a.customer_id, a.ref), key=itemgetter(0)):
        row = {"crm_level": None, "downstream_customers": None}
        for _, level, downstream in accounts:
            row["crm_level"] = row["crm_level"] or level
            if downstream is not None:
                row["downstream_customers"] = max(row["downstream_customers"] or 0, downstream)
        yield cid, row


class _InStep:
    """One block's (customer id, columns) stream, read in step with the customers: both come in
    customer order, so only the current row of each block is held. A stream out of that order
    would silently miss rows: it raises instead."""

    def __init__(self, pairs: Iterator[tuple[str, dict]]):
        self.pairs, self.cid, self.columns = pairs, None, None
        self._advance()

    def _advance(self) -> None:
        before = self.cid
        self.cid, self.columns = next(self.pairs, (None, None))
        if before is not None and self.cid is not None and self.cid <= before:
            raise RuntimeError(f"customer_360: a block's rows are not in customer order ({before!r}, {self.cid!r})")

    def take(self, cid: str) -> dict:
        """The block's columns for ``cid`` ({} when it has none); rows of customers before it
        (customers no longer in ``customer``) are passed over."""
        while self.cid is not None and self.cid < cid:
            self._advance()
        if self.cid != cid:
            return {}
        columns = self.columns
        self._advance()
        return columns


# More customers to recompute than a fifth of all (at least 2,000, at most 10,000: one IN list per
# block, below SQLite's bound-parameter limit): one pass over every customer is cheaper. A fixed
# 2,000 sent the incremental build of 30k customers (~2.5k reached) through the whole pass.
SCOPED_MIN, SCOPED_SHARE, SCOPED_MAX = 2000, 0.2, 10_000


def _scoped_max(conn: Connection) -> int:
    """How many customers a scoped recompute may take on (see SCOPED_SHARE)."""
    customers = conn.execute(select(func.count()).select_from(customer)).scalar_one()
    return min(max(SCOPED_MIN, int(customers * SCOPED_SHARE)), SCOPED_MAX)


def build_customer_360(conn: Connection, cfg: C360Config, as_of: datetime, tz: str, sources: dict[str, str],
                       ranks: dict[str, int], build_id: int, only: set[str] | None = None) -> int:
    """Replace ``customer_360_candidate`` with one row per customer as of ``as_of``; returns the row
    count. It reaches ``customer_360`` only through the publish gate (mappings/publish.py).

    ``only`` (an incremental or unchanged build: the customers whose inputs changed,
    mappings/affected.py; empty when none did): recompute and rewrite only the rows that can
    differ from the candidate in place, when that candidate is one build's (a single as-of). When
    the as-of moved, the customers whose time-dependent columns the move reaches are recomputed
    too and the recency-driven health scores rescored (mappings/c360_asof.py); as-of and freshness,
    the same for every row, are set by one UPDATE. Otherwise every row is recomputed."""
    as_of = _utc(as_of)
    fresh = _freshness(conn, sources, cfg)
    previous = _candidate_as_of(conn) if only is not None else None
    if previous is None:
        only = None
    elif previous != as_of:
        only = only | moved_customers(conn, cfg, previous, as_of, tz)
    if only is not None and len(only) > _scoped_max(conn):
        only = None
    ids = None if only is None else sorted(only)
    day = day_of(as_of, tz)
    zero = {"open_opportunities": 0, "interactions_30d": 0, "tech_inquiries_90d": 0, "product_series_90d": 0,
            "decision_maker_interactions_30d": 0, "competitor_mentions_90d": 0, "document_events_30d": 0}
    columns = set(customer_360.c.keys())

    def rows():
        # every block streamed in customer order beside the customers (merged as they come): memory
        # is a batch per block, not a dict per customer per block
        owners = _InStep(_owners(conn, ids))
        blocks = [_InStep(block) for block in (
            _opportunities(conn, as_of, ids), _orders(conn, day, cfg, ids), _receivables(conn, day, ids),
            _receipts(conn, day, ids), _ratings(conn, day, ranks, ids), _interactions(conn, as_of, cfg, ids),
            _product_series(conn, day, cfg, ids), _response_minutes(conn, as_of, cfg, ids),
            _completeness(conn, cfg.completeness_threshold, ids), _profiles(conn, ids))]
        while owners.cid is not None:
            cid = owners.cid
            row = {c: None for c in columns} | zero | fresh | owners.take(cid)
            for block in blocks:
                row.update(block.take(cid))
            for key in zero:
                row[key] = int(row[key] or 0)
            row["last_contact_at"] = _utc(row["last_contact_at"])
            row["health_score"] = health_score(row, as_of, cfg.health)
            row["high_intent"] = row["health_score"] >= cfg.health.high_intent_at
            row["grade"] = grade(row, cfg.grade)
            row["as_of"], row["build_id"] = as_of, build_id
            yield {k: v for k, v in row.items() if k in columns}

    if ids is None:
        return write_customer_360(conn, rows())
    c = customer_360_candidate.c
    if previous != as_of:  # before the rewrite: the rows rewritten are right at the new as-of already
        rescore(conn, cfg, previous, as_of, only)
    for i in range(0, len(ids), 500):  # a customer gone since the last build loses its row here
        conn.execute(delete(customer_360_candidate).where(among(c.customer_id, ids[i:i + 500])))
    insert_batched(conn, customer_360_candidate, rows())
    # the rows kept are this build's too (computed from inputs that did not change), as of its
    # instant and with its sources' freshness (the same for every row)
    kept = c.build_id != build_id
    if previous != as_of or not _fresh_matches(conn, fresh):
        conn.execute(update(customer_360_candidate).where(kept).values(build_id=build_id, as_of=as_of, **fresh))
    else:
        conn.execute(update(customer_360_candidate).where(kept).values(build_id=build_id))
    return conn.execute(select(func.count()).select_from(customer_360_candidate)).scalar_one()


def _candidate_as_of(conn: Connection) -> datetime | None:
    """The as-of of the candidate in place when all its rows share one (one build's), else None."""
    seen = conn.execute(select(customer_360_candidate.c.as_of).distinct().limit(2)).scalars().all()
    return _utc(seen[0]) if len(seen) == 1 else None


def _fresh_matches(conn: Connection, fresh: dict) -> bool:
    """Whether every row of the candidate in place shows the sources' freshness ``fresh``."""
    c = customer_360_candidate.c
    keys = sorted(fresh)
    seen = conn.execute(select(*[c[k] for k in keys]).distinct().limit(2)).all()
    return len(seen) == 1 and all(_utc(v) == fresh[k] for k, v in zip(keys, seen[0]))


def write_customer_360(conn: Connection, rows) -> int:
    """The build's one write: the candidate customer_360 replaced by ``rows``. Readers see it only
    once the quality gate publishes it (mappings/publish.py)."""
    conn.execute(delete(customer_360_candidate))
    return insert_batched(conn, customer_360_candidate, rows)
