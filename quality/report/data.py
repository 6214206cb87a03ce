"""Everything the report shows, read from the warehouse once and shaped for every output format.

``open_discrepancies`` and ``customer_crosswalk`` produce the public result files (their shapes are
the contract of world-and-results.md); ``gather`` adds what people read: weekly trend, aging,
roll-ups, new / persisting / resolved since the last report, business context, source health.
"""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, and_, case, func, inspect, or_, select

from hub_core.schema import (
    customer,
    customer_review,
    customer_xref,
    discrepancy,
    metadata,
    raw_reject,
    reconcile_run,
    sync_run,
)
from hub_core.schema_report import report_run
from hub_core.settings import LANDED_STATUSES
from hub_core.sql import codepoint_order
from quality.report.items import CONTRACT_KEYS, ItemStore, OpenItem, Tally
from quality.report.lookup import business_context, document_code, managers_of
from quality.report.texts import iso_local, local, money, settings, utc

__all__ = ["CONTRACT_KEYS", "OpenItem", "ReportData", "crosswalk_items", "customer_crosswalk", "gather", "iso_local",
           "local", "money", "open_discrepancies", "settings", "utc", "week_end"]

SEVERITIES = ("red", "orange", "yellow")
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
_CHUNK = 2000  # rows read at a time; open items' business context is looked up a chunk at a time


def week_end(moment: datetime, tz: str | None = None) -> datetime:
    """The latest weekly boundary (Monday 08:00 local by default) at or before ``moment``, in UTC."""
    cfg = settings()
    here = local(moment, tz)
    start_of_day = here.replace(hour=cfg["week_end_hour"], minute=0, second=0, microsecond=0)
    boundary = start_of_day - timedelta(days=(here.weekday() - cfg["week_end_weekday"]) % 7)
    if boundary > here:
        boundary -= timedelta(days=7)
    return boundary.astimezone(UTC)


def _sort_key(item: dict):
    return int(item["rule"][1:]), _SEVERITY_ORDER.get(item["severity"], 9), -Decimal(item["amount_cny"]), item["refs"][0]


class Item(dict):
    """An item of the report: a plain dict (JSON, comparisons) whose keys also read as attributes.
    Jinja looks ``i.severity`` up as an attribute first; on a plain dict that fails with an
    exception before the key is tried - per cell, 300k times for a 10k-customer report."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _contract(row) -> dict:
    return {"rule": row.rule, "severity": row.severity, "customer_id": row.customer_id,
            "customer_name": row.customer_name, "owner": row.owner, "region": row.region,
            "amount_cny": money(row.amount_cents), "refs": json.loads(row.refs),
            "first_seen": iso_local(row.first_seen), "status": row.status}


def _open_rows(conn: Connection):
    d = discrepancy.c
    return conn.execute(select(discrepancy).where(d.status.in_(["open", "acknowledged"]))).all()


def open_discrepancies(engine: Engine) -> list[dict]:
    """Open and acknowledged discrepancies in the result-file shape, most urgent first."""
    with engine.connect() as conn:
        items = [_contract(r) for r in _open_rows(conn)]
    return sorted(items, key=_sort_key)


def customer_crosswalk(engine: Engine) -> list[dict]:
    """The customers.json crosswalk: every unified customer with all its source records."""
    with engine.connect() as conn:
        return list(crosswalk_items(conn))


def crosswalk_items(conn: Connection) -> Iterator[dict]:
    """The crosswalk one customer at a time, in customer id order (Python's): customers and their
    refs read side by side, both in that order, neither held whole."""
    c, x = customer.c, customer_xref.c
    # yield_per on the statements, not the connection (which would keep it for every later query)
    customers = conn.execute(select(c.customer_id, c.name).order_by(codepoint_order(conn, c.customer_id))
                             .execution_options(yield_per=_CHUNK))
    xrefs = conn.execute(select(x.customer_id, x.ref).order_by(codepoint_order(conn, x.customer_id), x.ref)
                         .execution_options(yield_per=_CHUNK * 5))
    pending = next(xrefs, None)
    for cid, name in customers:
        while pending is not None and (pending[0] is None or pending[0] < cid):  # refs of no customer
            pending = next(xrefs, None)
        refs = []
        while pending is not None and pending[0] == cid:
            refs.append(pending[1])
            pending = next(xrefs, None)
        yield {"customer_id": cid, "name": name, "refs": refs}


@dataclass
class ReportData:
    """What every output format renders; times are aware, local to the reporting zone."""

    as_of: datetime
    since: datetime
    generated: datetime
    weekly: bool
    items: Sequence  # open items (OpenItem), enriched, most urgent first; an ItemStore when gathered
    resolved: list[dict]
    counts: dict
    total_cents: int
    rollups: dict[str, list[dict]]  # by_rule / by_region / by_manager / by_owner
    trend: dict
    aging: list[dict]
    sources: list[dict]
    completeness: list[dict] | None
    held_back: list[str]
    customer_count: int
    review_count: int

    def contract(self) -> Iterator[dict]:
        """discrepancies.json's items (the contract's shape and order), made one at a time."""
        items = self.items
        for k in contract_order(items):
            i = items[k]
            yield i.as_contract() if type(i) is OpenItem else {k: i[k] for k in CONTRACT_KEYS}


def _contract_key(i) -> tuple:
    return int(i["rule"][1:]), _SEVERITY_ORDER.get(i["severity"], 9), -i["cents"], i["refs"][0]


def contract_order(items: Sequence) -> Iterator[int]:
    """The positions of ``items`` (most urgent first) in discrepancies.json's order: by rule number,
    severity, amount (largest first), first ref - a stable sort of ``items`` by that key. Within
    one rule the items' own order is that order already, so gathered items (an ``ItemStore``
    knows its positions per rule, ``by_rule``) need only their rules put in order; rules sharing
    a number (``R1``, ``R01``) are merged by the key."""
    by_rule = getattr(items, "by_rule", None)
    if by_rule is None:  # items made elsewhere: sort them
        yield from sorted(range(len(items)), key=lambda k: _contract_key(items[k]))
        return
    by_number = defaultdict(list)
    for rule, positions in by_rule.items():
        by_number[int(rule[1:])].append(positions)
    for number in sorted(by_number):
        groups = by_number[number]
        if len(groups) == 1:
            yield from groups[0]
        else:
            yield from sorted(sorted(k for positions in groups for k in positions),
                              key=lambda k: _contract_key(items[k])[1:])


def _enrich(conn: Connection, as_of: datetime, since: datetime) -> tuple[ItemStore, Tally]:
    """Open items enriched, most urgent first, and what they add up to. Read and enriched a chunk
    at a time into an ``ItemStore``: neither the rows, nor their business context, nor the items
    are all in memory (only each item's sort key, until the items are in order)."""
    d = discrepancy.c
    has_manager = "manager" in discrepancy.c
    columns = [d.rule, d.severity, d.customer_id, d.customer_name, d.owner, d.region, d.amount_cents, d.refs,
               d.first_seen, d.status] + ([d.manager] if has_manager else [])
    result = conn.execute(select(*columns).where(d.status.in_(["open", "acknowledged"]))
                          .execution_options(yield_per=_CHUNK))
    managers: dict[str, str | None] = {}
    items, keys, tally = ItemStore(OpenItem), [], Tally(settings()["aging_edges_days"], SEVERITIES)
    rules = []  # each item's rule, as appended: the items' groups by rule once they are in order
    moments: dict = {}  # first_seen as stored -> (aware UTC, age in days, new / persisting)
    for rows in result.partitions():
        parsed = [tuple(json.loads(r.refs)) for r in rows]  # tuples: the items stay out of the GC's way
        context = business_context(conn, [ref for refs in parsed for ref in refs])
        # Rows written before the column existed (or by hand) carry no manager: ask the directory.
        unknown = {r.owner for r in rows if r.owner and not (has_manager and r.manager) and r.owner not in managers}
        if unknown:
            found = managers_of(conn, unknown)
            managers.update({owner: found.get(owner) for owner in unknown})
        for r, refs in zip(rows, parsed, strict=True):
            seen = moments.get(r.first_seen)  # items share a few first-seen moments (reconcile runs)
            if seen is None:
                first = utc(r.first_seen)
                seen = moments[r.first_seen] = (first, max(0, (as_of - first).days),
                                                "new" if first > since else "persisting")
            deal = next((context[x] for x in refs if "deal" in context.get(x, _NO_DEAL)), _NO_DEAL)
            docs = " ".join(context[x]["code"] if "code" in context.get(x, _NO_DEAL) else document_code(x)
                            for x in refs if not x.startswith("crm:"))
            item = OpenItem(r.rule, r.severity, r.customer_id, r.customer_name, r.owner, r.region, r.amount_cents,
                            refs, seen[0], r.status, (has_manager and r.manager) or managers.get(r.owner),
                            deal.get("deal"), deal.get("stage"), deal.get("close_date"), docs, seen[1], seen[2])
            tally.add(item)
            items.add(item)
            rules.append(r.rule)
            keys.append((_SEVERITY_ORDER.get(r.severity, 9), -r.amount_cents, r.rule, refs[0]))
    permutation = items.order(keys)  # most urgent first
    items.by_rule = by_rule = {}
    for position, k in enumerate(permutation):
        rule = rules[k]
        positions = by_rule.get(rule)
        if positions is None:
            positions = by_rule[rule] = array("l")
        positions.append(position)
    return items, tally


_NO_DEAL: dict = {}


def _resolved(conn: Connection, since: datetime, as_of: datetime) -> list[dict]:
    d = discrepancy.c
    rows = conn.execute(select(discrepancy).where(d.status == "resolved", d.resolved_at > since,
                                                  d.resolved_at <= as_of).order_by(d.resolved_at, d.discrepancy_id)).all()
    return [Item(_contract(r), cents=r.amount_cents, amount=Decimal(r.amount_cents) / 100,
                 resolved_local=local(r.resolved_at)) for r in rows]


def _trend(conn: Connection, as_of: datetime) -> dict:
    """Open counts and money per rule and per region at each of the last N weekly boundaries,
    reconstructed from first_seen / resolved_at (one grouped query per boundary)."""
    d = discrepancy.c
    weeks = [as_of - timedelta(days=7 * k) for k in range(settings()["trend_weeks"] - 1, -1, -1)]
    series: dict = {"weeks": [local(w) for w in weeks]}
    for dim in ("rule", "region"):
        series[dim] = defaultdict(lambda: [0] * len(weeks))
        series[dim + "_cents"] = defaultdict(lambda: [0] * len(weeks))
    for n, boundary in enumerate(weeks):
        alive = and_(d.first_seen <= boundary, or_(d.resolved_at.is_(None), d.resolved_at > boundary))
        q = select(d.rule, d.region, func.count(), func.coalesce(func.sum(d.amount_cents), 0)).where(alive)
        for rule, region, count, cents in conn.execute(q.group_by(d.rule, d.region)):
            for dim, value in (("rule", rule), ("region", region or "")):
                series[dim][value][n] += count
                series[dim + "_cents"][value][n] += int(cents)
    return series


def _sources(conn: Connection, now: datetime) -> list[dict]:
    """Freshness per source: its last successful sync and that sync's age, plus the latest run."""
    s = sync_run.c
    good = dict(conn.execute(select(s.source, func.max(s.finished_at)).where(
        s.status.in_(LANDED_STATUSES)).group_by(s.source)).all())
    latest = select(s.source, func.max(s.id).label("id")).group_by(s.source).subquery()
    runs = conn.execute(select(sync_run).join(latest, latest.c.id == s.id).order_by(s.source)).all()
    stale_after = settings()["stale_after_hours"]
    q = raw_reject.c  # the landing quarantine: entries still open
    held = dict(conn.execute(select(q.source, func.count()).where(func.coalesce(q.status, "open") == "open")
                             .group_by(q.source)).all())
    result = []
    for r in runs:
        last_ok = utc(good.get(r.source))
        age = round((now - last_ok).total_seconds() / 3600, 1) if last_ok else None
        withheld = sum(v["withheld"] for v in json.loads(r.deletions_withheld or "{}").values())
        result.append({"source": r.source, "last_success": local(last_ok), "age_hours": age,
                       "stale": age is None or age > stale_after or bool(withheld), "status": r.status,
                       "landed": r.records_landed, "rejected": r.records_rejected,
                       "quarantined": held.get(r.source, 0), "drift": r.drift_events or 0, "withheld": withheld})
    return result


def source_completeness(conn: Connection, tables=None) -> list[dict] | None:
    """Completeness hook: per entity table that carries a ``completeness`` score per record (the
    unified model does), the share of complete records. None while no such table exists yet."""
    present = set(inspect(conn).get_table_names())
    threshold = settings()["complete_at"]
    result = []
    for table in tables if tables is not None else metadata.sorted_tables:
        if table.name not in present or "completeness" not in table.c or "ref" not in table.c:
            continue
        complete = func.sum(case((table.c.completeness >= threshold, 1), else_=0))
        total, good, ref = conn.execute(select(func.count(), complete, func.min(table.c.ref))).one()
        if total:
            result.append({"entity": table.name, "source": (ref or "").split(":", 1)[0], "records": total,
                           "share": float(good or 0) / total})
    return result or None


def held_back_rules(conn: Connection) -> list[str]:
    """Rules the last reconcile run held back, when the run records them (JSON list column)."""
    column = next((reconcile_run.c[n] for n in ("held_back", "held_back_rules") if n in reconcile_run.c), None)
    if column is None:
        return []
    value = conn.execute(select(column).order_by(reconcile_run.c.id.desc()).limit(1)).scalar()
    if not value:
        return []
    return list(json.loads(value)) if isinstance(value, str) else list(value)


def last_reconcile_as_of(conn: Connection) -> datetime | None:
    """The as-of time of the latest reconcile run (what the open discrepancies describe)."""
    return utc(conn.execute(select(reconcile_run.c.as_of).order_by(reconcile_run.c.id.desc()).limit(1)).scalar())


def previous_report(conn: Connection, as_of: datetime) -> datetime | None:
    """The as-of time of the latest earlier report at or before ``as_of``."""
    r = report_run.c
    return utc(conn.execute(select(func.max(r.as_of)).where(r.as_of <= as_of)).scalar())


def gather(engine: Engine, as_of: datetime | None = None, since: datetime | None = None, weekly: bool = False,
           held_back: list[str] | None = None, now: datetime | None = None) -> ReportData:
    """Read everything the report shows. ``since`` defaults to the previous report (or one week)."""
    now = utc(now) or datetime.now(UTC)
    with engine.connect() as conn:
        as_of = utc(as_of) or last_reconcile_as_of(conn) or now
        if since is None:
            since = (as_of - timedelta(days=7)) if weekly else (previous_report(conn, as_of) or as_of - timedelta(days=7))
        since = utc(since)
        items, tally = _enrich(conn, as_of, since)
        resolved = _resolved(conn, since, as_of)
        trend = _trend(conn, as_of)
        sources = _sources(conn, now)
        completeness = source_completeness(conn)
        held = list(held_back) if held_back is not None else held_back_rules(conn)
        customers = conn.execute(select(func.count()).select_from(customer)).scalar_one()
        review = conn.execute(select(func.count()).select_from(customer_review)).scalar_one()
    counts = {"open": tally.open, "new": tally.changes["new"][0], "persisting": tally.changes["persisting"][0],
              "resolved": len(resolved), "red": tally.red}
    cents = {k: tally.changes[k][1] for k in ("new", "persisting")}
    cents["resolved"] = sum(i["cents"] for i in resolved)
    counts["cents"] = cents
    return ReportData(
        as_of=local(as_of), since=local(since), generated=local(now), weekly=weekly, items=items, resolved=resolved,
        counts=counts, total_cents=tally.total, rollups={k: tally.rollup(k) for k in Tally.DIMS},
        trend=trend, aging=tally.aging, sources=sources, completeness=completeness, held_back=held,
        customer_count=customers, review_count=review)
