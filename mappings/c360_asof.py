"""Which customer_360 rows a moved as-of changes (issue #6: ``hub run`` builds as of *now*, so the
as-of moves on every build; recomputing every customer for that alone made every build cost a
full customer_360).

A customer_360 column depends on the as-of T (or its day D) only through comparisons of one
record's time key with a bound: ``key <= T`` (the record exists yet) or ``key > T - N days`` (it is
inside a window), per day for dated records (docs/data-model.md, customer_360). Moving T from T0
to T1 flips such a comparison only for a record whose key lies between the two bounds, e.g. an
interaction timed in ``(T0 - 30 days, T1 - 30 days]`` leaves the 30-day windows. So only the
customers with a record in one of those thin slices can see a column change; every other column
of every other customer comes out the same. Two exceptions, handled apart:

- the health score's *recency* slides with T itself (``1 - days since last contact / 7``): it
  can change for every customer whose last contact is within ``recency_zero_after_days`` of the
  earlier as-of. Its other inputs are the row's own columns, so for those customers only
  ``health_score``, ``high_intent`` and ``grade`` are recomputed, from the row in place
  (:func:`rescore`);
- ``as_of`` and the per-source freshness columns are the same for every row: one UPDATE.

Whatever these slices miss would be a stale row: ``tests/mappings/test_incremental_c360.py`` and
``bench/build.py --verify`` compare with a full rebuild at the same as-of.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, or_, select, union, update

from hub_core.schema_publish import customer_360_candidate
from hub_core.schema_unified import (
    credit_rating,
    interaction,
    opportunity,
    receipt,
    receivable,
    sales_order,
)
from mappings.c360_config import C360Config
from mappings.health import grade, health_score


def day_of(moment: datetime, tz: str) -> date:
    """D: the calendar day of an instant in the business timezone."""
    return moment.astimezone(ZoneInfo(tz)).date()


def _between(column, low, high):
    """``low < column <= high``: the keys a bound moving from ``low`` to ``high`` passes."""
    return and_(column > low, column <= high)


def moved_customers(conn: Connection, cfg: C360Config, old: datetime, new: datetime, tz: str) -> set[str]:
    """Customers with a record whose time key lies between the as-of bounds at ``old`` and at
    ``new`` (either order): only their time-dependent columns can differ (see the module doc).
    One scan per table, the slices OR-ed."""
    lo, hi = sorted((old, new))
    dlo, dhi = sorted((day_of(old, tz), day_of(new, tz)))
    w = cfg.windows
    i = interaction.c
    # exists by T, and inside each instant window (response minutes: the signal window)
    instants = [_between(i.occurred_at, lo - timedelta(days=n), hi - timedelta(days=n))
                for n in sorted({0, w.interactions_days, w.signals_days})]
    o = opportunity.c
    queries = [select(i.customer_id).where(i.customer_id.is_not(None), or_(*instants)),
               select(o.customer_id).where(o.customer_id.is_not(None), _between(o.created_at, lo, hi))]
    if dlo != dhi:
        s, r, p, c = sales_order.c, receivable.c, receipt.c, credit_rating.c
        orders = [_between(s.order_day, dlo - timedelta(days=n), dhi - timedelta(days=n))
                  for n in sorted({0, w.revenue_days, w.signals_days})]  # last order, 12-month revenue, series
        queries += [
            select(s.customer_id).where(s.customer_id.is_not(None), or_(*orders)),
            select(r.customer_id).where(r.customer_id.is_not(None), or_(
                _between(r.receivable_day, dlo, dhi),
                and_(r.due_day >= dlo, r.due_day < dhi))),  # overdue: due_day < D
            select(p.customer_id).where(p.customer_id.is_not(None), _between(p.receipt_day, dlo, dhi)),
            select(c.customer_id).where(c.customer_id.is_not(None), _between(c.rated_day, dlo, dhi)),
        ]
    return set(conn.execute(union(*queries)).scalars())


# what health_score reads of a row (mappings/health.py), besides the grade rules' columns
_HEALTH_INPUTS = ("last_contact_at", "document_events_30d", "decision_maker_interactions_30d",
                  "competitor_mentions_90d", "response_minutes")


def _scored_from(cfg: C360Config) -> list[str]:
    """The candidate columns a rescore reads: the key, the scores it recomputes, the health score's
    inputs and every column a grade rule bounds (the other ~30 columns of 6k rows were read for
    nothing at 10k customers)."""
    ruled = {k for rule in cfg.grade.rules for k in (*rule.min, *rule.max)}
    wanted = {"customer_id", "health_score", "high_intent", "grade", *_HEALTH_INPUTS} | ruled
    return [k for k in customer_360_candidate.c.keys() if k in wanted]


def rescore(conn: Connection, cfg: C360Config, old: datetime, new: datetime, skip: set[str]) -> int:
    """Recompute health score, high intent and grade at ``new`` for the candidate rows whose
    recency can differ from ``old``'s (last contact after ``min(old, new) - recency_zero_after_days``),
    except ``skip`` (rows recomputed whole); write the rows whose values changed. Every other
    input of both is a column of the row itself, unchanged by the move (:func:`moved_customers`)."""
    c = customer_360_candidate.c
    since = min(old, new) - timedelta(days=cfg.health.recency_zero_after_days)
    # streamed (the rows within the recency window can be most customers); only changes are kept,
    # written after the read (SQLite's cursor could see rows updated during its scan)
    result = conn.execute(select(*[c[k] for k in _scored_from(cfg)]).where(c.last_contact_at > since)
                          .execution_options(yield_per=2000))
    keys = list(result.keys())
    changes = []
    for values in result:
        row = dict(zip(keys, values))
        if row["customer_id"] in skip:
            continue
        last = row["last_contact_at"]  # read back naive from SQLite: UTC
        row["last_contact_at"] = last if last is None or last.tzinfo else last.replace(tzinfo=UTC)
        score = health_score(row, new, cfg.health)
        new_row = row | {"health_score": score, "high_intent": score >= cfg.health.high_intent_at}
        new_row["grade"] = grade(new_row, cfg.grade)
        if any(new_row[k] != row[k] for k in ("health_score", "high_intent", "grade")):
            changes.append({"cid": row["customer_id"], "score": new_row["health_score"],
                            "intent": new_row["high_intent"], "grd": new_row["grade"]})
    if changes:
        conn.execute(update(customer_360_candidate).where(c.customer_id == bindparam("cid")).values(
            health_score=bindparam("score"), high_intent=bindparam("intent"), grade=bindparam("grd")), changes)
    return len(changes)
