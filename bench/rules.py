"""Benchmark the consistency rules R1-R11 over a large synthetic unified model.

The world generator is far too slow for 100k customers / 1M orders, so this script synthesizes the
unified-model tables directly with set-based ``INSERT ... SELECT`` over a number series (one
statement per table, on SQLite and PostgreSQL), then times deal/order pairing, each rule's finder
and one full ``reconcile`` (rules + lifecycle persist). Prints seconds per step and peak RSS.

    uv run python bench/rules.py --customers 100000 --orders 1000000 [--warehouse URL] [--steps]

For PostgreSQL pass an empty database: ``--warehouse postgresql+psycopg://postgres@127.0.0.1:5432/<db>``.
``--steps``: afterwards, one more reconcile (items persisting) and the weekly report, each in a
process of its own, so that each step's peak RSS is its own (``run.child``: the kernel's figure)
rather than the bench process's, which also holds the synthesis and the finders' timings.
"""


from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, text

from hub_core.schema_unified import employee
from hub_core.warehouse import open_warehouse

T = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str):
        self.pg = name == "postgresql"

    def series(self, n: int) -> str:
        if self.pg:
            return f"(SELECT generate_series(1, {n}) AS i) AS n"
        return f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s) AS n"

    def day(self, days_ago: str) -> str:
        if self.pg:
            return f"(DATE '2026-11-20' - CAST({days_ago} AS INTEGER))"
        return f"date('2026-11-20', '-' || ({days_ago}) || ' days')"

    def ts(self, hours_ago: str) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '2026-11-20 01:00:00+00' - ({hours_ago}) * INTERVAL '1 hour')"
        return f"(datetime('2026-11-20 01:00:00', '-' || ({hours_ago}) || ' hours') || '.000000')"

    def local_day(self, hours_ago: str) -> str:
        """Shanghai calendar day of ``ts(hours_ago)`` (UTC + 8 h)."""
        if self.pg:
            return f"CAST((TIMESTAMP '2026-11-20 09:00:00' - ({hours_ago}) * INTERVAL '1 hour') AS DATE)"
        return f"date('2026-11-20 09:00:00', '-' || ({hours_ago}) || ' hours')"

    def bool(self, expr: str) -> str:
        return f"({expr})" if self.pg else f"CASE WHEN {expr} THEN 1 ELSE 0 END"

    def false(self) -> str:
        return "false" if self.pg else "0"


def synthesize(engine, customers: int, orders: int) -> dict[str, int]:
    """Fill the unified model; returns rows per table."""
    q = Dialect(engine.dialect.name)
    nc = customers
    cust = f"'C' || (i % {nc})"
    f = q.false()
    plan = {
        "customer": (nc, f"INSERT INTO customer (customer_id, name, uscc, owner_employee_id, record_count, needs_review) "
                         f"SELECT 'C' || (i - 1), '客户' || i, NULL, 'e' || (i % 200), 2, {f} FROM {q.series(nc)}"),
        "account_profile": (nc, f"INSERT INTO account_profile (ref, customer_ref, customer_id, name, account_level, "
                                f"owner_employee_id, is_deleted, completeness) SELECT 'crm:AccountObj:a' || i, "
                                f"'crm:AccountObj:a' || i, 'C' || (i - 1), '客户' || i, "
                                f"CASE i % 4 WHEN 0 THEN 'S' WHEN 1 THEN 'A' WHEN 2 THEN 'B' ELSE 'C' END, "
                                f"'e' || (i % 200), {f}, 1.0 FROM {q.series(nc)}"),
        "customer_xref": (2 * nc, f"INSERT INTO customer_xref (ref, customer_id, system, match_method) "
                                  f"SELECT CASE WHEN i <= {nc} THEN 'crm:AccountObj:a' || i ELSE 'u8:customer:U' || i END, "
                                  f"'C' || ((i - 1) % {nc}), CASE WHEN i <= {nc} THEN 'crm' ELSE 'u8' END, 'own' "
                                  f"FROM {q.series(2 * nc)}"),
        # R6 reads entity resolution's staged records (customer_record)
        "customer_record": (2 * nc, f"INSERT INTO customer_record (ref, system, natural_id, name, name_norm, "
                                    f"owner_employee_id, is_deleted, content_hash, changed_at) SELECT x.ref, x.system, "
                                    f"x.ref, x.ref, CASE WHEN x.customer_id LIKE '%27' AND x.system = 'u8' THEN 'other' "
                                    f"ELSE x.customer_id END, CASE WHEN x.customer_id LIKE '%49' AND "
                                    f"x.system = 'u8' THEN 'e1' ELSE 'e0' END, {f}, 'h', {q.ts('0')} FROM customer_xref x"),
        "opportunity": (3 * nc, f"INSERT INTO opportunity (ref, customer_ref, customer_id, name, amount_cents, stage, "
                                f"status, close_at, close_day, created_at, modified_at, stage_changed_at, "
                                f"owner_employee_id, is_deleted, completeness) SELECT 'crm:NewOpportunityObj:o' || i, "
                                f"NULL, {cust}, 'o', (i % 37) * 100000, "
                                f"CASE i % 7 WHEN 0 THEN 'lead' WHEN 1 THEN 'needs' WHEN 2 THEN 'proposal' "
                                f"WHEN 3 THEN 'negotiation' ELSE 'won' END, "
                                f"CASE i % 5 WHEN 0 THEN 'won' WHEN 1 THEN 'won' WHEN 4 THEN 'lost' ELSE 'open' END, "
                                f"{q.ts('(i % 9000)')}, {q.local_day('(i % 9000)')}, {q.ts('9000')}, "
                                f"{q.ts('(i % 60)')}, {q.ts('(i % 700)')}, 'e' || (i % 200), {f}, 1.0 "
                                f"FROM {q.series(3 * nc)}"),
        "sales_order": (orders, f"INSERT INTO sales_order (ref, customer_ref, customer_id, code, order_day, state, "
                                f"amount_cents, completeness) SELECT 'u8:saleorderlist:S' || i, NULL, {cust}, 'S' || i, "
                                f"{q.day('(i % 700)')}, 'Approved', ((i % {3 * nc}) % 37) * 100000 "
                                f"+ CASE WHEN i % 29 = 0 THEN 99999 ELSE 0 END, 1.0 "
                                f"FROM {q.series(orders)}"),
        "dispatch": (orders // 3, f"INSERT INTO dispatch (ref, customer_ref, customer_id, code, dispatch_day, amount_cents, "
                                  f"completeness) SELECT 'u8:consignmentlist:D' || i, NULL, {cust}, 'D' || i, "
                                  f"{q.day('(i % 690)')}, (i * 31) % 9000000, 1.0 FROM {q.series(orders // 3)}"),
        "dispatch_line": (orders // 3, f"INSERT INTO dispatch_line (ref, customer_id, dispatch_ref, line_no, order_ref, "
                                       f"completeness) SELECT 'u8:consignmentlist:D' || i || '#1', {cust}, "
                                       f"'u8:consignmentlist:D' || i, 1, 'u8:saleorderlist:S' || (i * 3), 1.0 "
                                       f"FROM {q.series(orders // 3)}"),
        "invoice": (orders // 3, f"INSERT INTO invoice (ref, customer_id, number, invoice_day, amount_cents, completeness) "
                                 f"SELECT 'u8:saleinvoicelist:I' || i, {cust}, 'I' || i, {q.day('(i % 600)')}, "
                                 f"(i * 37) % 9000000, 1.0 FROM {q.series(orders // 3)}"),
        "receipt": (orders // 3, f"INSERT INTO receipt (ref, customer_id, code, receipt_day, amount_cents, completeness) "
                                 f"SELECT 'u8:acceptlist:R' || i, {cust}, 'R' || i, {q.day('(i % 600)')}, "
                                 f"(i * 37) % 9000000 + CASE WHEN i % 50 = 0 THEN 500 ELSE 0 END, 1.0 FROM {q.series(orders // 3)}"),
        "receivable": (orders // 3, f"INSERT INTO receivable (ref, customer_id, code, receivable_day, due_day, "
                                    f"amount_cents, balance_cents, owner_employee_id, completeness) "
                                    f"SELECT 'u8:oughtreceivelist:A' || i, {cust}, 'A' || i, {q.day('(i % 600) + 30')}, "
                                    f"{q.day('(i % 600)')}, 100000, CASE WHEN i % 20 = 0 THEN 50000 ELSE 0 END, 'e' || (i % 200), 1.0 "
                                    f"FROM {q.series(orders // 3)}"),
        "credit_rating": (2 * nc, f"INSERT INTO credit_rating (ref, rated_day, customer_ref, customer_id, rating, "
                                  f"previous_rating, is_current, completeness) SELECT "
                                  f"'finance:credit_rating:U' || (i % {nc}), {q.day('(i / ' + str(nc) + ') * 200')}, "
                                  f"NULL, {cust}, CASE i % 3 WHEN 0 THEN 'BBB' WHEN 1 THEN 'A' ELSE 'BB' END, "
                                  f"CASE i % 4 WHEN 0 THEN 'AA' ELSE 'A' END, {f}, 1.0 FROM {q.series(2 * nc)}"),
        "interaction": (orders, f"INSERT INTO interaction (ref, customer_ref, customer_id, channel, direction, "
                                f"occurred_at, is_tech_inquiry, mentions_competitor, is_document, with_decision_maker, "
                                f"completeness) SELECT 'wecom:messages:m' || i, NULL, 'C' || ((i * 7) % {nc}), "
                                f"CASE WHEN i % 4 = 0 THEN 'crm_followup' ELSE 'wecom' END, 'in', "
                                f"{q.ts('(i % 4000)')}, {f}, {f}, {f}, {f}, 1.0 FROM {q.series(orders)}"),
    }
    with engine.begin() as conn:
        conn.execute(insert(employee), [{"employee_id": f"e{i}", "name": f"员工{i}", "region": f"R{i % 5}",
                                         "manager_employee_id": f"e{i % 10}", "linked_by": "own"} for i in range(200)])
    counts = {}
    for table, (n, sql) in plan.items():
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(sql))
        counts[table] = n
        print(f"  synthesized {table:<20} {n:>9,} rows in {time.perf_counter() - start:6.1f} s", flush=True)
    if q.pg:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return counts


def time_rules(engine) -> float:
    """Pairing and every rule's finder on their own, then one full reconcile; returns its seconds."""
    from quality.config import load_rules
    from quality.pairing import pair_deals
    from quality.reconcile import _context, reconcile
    from quality.registry import RULES

    cfg = load_rules()
    ctx = _context(T, cfg)
    with engine.begin() as conn:
        start = time.perf_counter()
        pairs = pair_deals(conn, T, ctx.as_of_day, cfg.pairing.order_window_days)
        print(f"  pairing: {pairs:,} pairs in {time.perf_counter() - start:.1f} s", flush=True)
        for spec in RULES:
            start = time.perf_counter()
            found = spec.find(conn, ctx, cfg.rule(spec.id))
            print(f"  {spec.id:<4} {len(found):>8,} items in {time.perf_counter() - start:6.1f} s", flush=True)
    start = time.perf_counter()
    result = reconcile(engine, as_of=T, config=cfg)
    first = time.perf_counter() - start
    print(f"  reconcile (pairing + R1-R11 + persist, first run): {first:.1f} s, "
          f"{sum(result.found.values()):,} items", flush=True)
    start = time.perf_counter()
    result = reconcile(engine, as_of=T + timedelta(hours=1), config=cfg)
    print(f"  reconcile (second run, items persisting): {time.perf_counter() - start:.1f} s", flush=True)
    return first


def child_step(step: str, url: str) -> None:
    """``--child``: one step on an already filled warehouse; prints its figures as a JSON line."""
    import json

    engine = open_warehouse(url)
    start = time.perf_counter()
    if step == "reconcile":
        from quality.reconcile import reconcile

        result = reconcile(engine, as_of=T + timedelta(hours=2))
        records = sum(result.found.values())
    else:
        from quality.report import write_report

        out = Path(tempfile.mkdtemp(prefix="rules-report-"))
        records = write_report(engine, out, as_of=T + timedelta(hours=2)).discrepancies
    print(json.dumps({"step": step, "work_s": round(time.perf_counter() - start, 2), "records": records}))
    engine.dispose()


def time_steps(url: str) -> None:
    """Reconcile again and write the report, each in a child process: seconds and peak RSS."""
    from run import child

    for step in ("reconcile", "report"):
        got = child([sys.executable, __file__, "--child", step, "--warehouse", url])
        print(f"  {step:<9} (own process) {got['work_s']:6.1f} s of work, {got['records']:,} items, "
              f"{got['cpu_s']} CPU s, peak RSS {got['peak_rss_mb']} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--warehouse", help="warehouse URL (default: a temporary SQLite file)")
    parser.add_argument("--steps", action="store_true", help="also reconcile and report in processes of their own")
    parser.add_argument("--child", choices=("reconcile", "report"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_step(args.child, args.warehouse)
        return
    tmp = tempfile.TemporaryDirectory()
    url = args.warehouse or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = open_warehouse(url)
    print(f"warehouse {engine.dialect.name}: {args.customers:,} customers, {args.orders:,} orders", flush=True)
    start = time.perf_counter()
    synthesize(engine, args.customers, args.orders)
    print(f"synthesized in {time.perf_counter() - start:.1f} s", flush=True)
    seconds = time_rules(engine)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {engine.dialect.name}: reconcile {seconds:.1f} s (target < 60 s), peak RSS {rss_mb:.0f} MB")
    engine.dispose()
    if args.steps:
        time_steps(url)


if __name__ == "__main__":
    main()
