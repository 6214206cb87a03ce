"""API latency at 100k customers on PostgreSQL: p50 / p95 of GET /customers/{id} (the 360 view) and
of the discrepancy listing, under concurrent load from a second process.

    python3 -m uv run --frozen python bench/api_latency.py                  # 100k customers, 20 s a scenario
    python3 -m uv run --frozen python bench/api_latency.py --customers 10000 --seconds 5 --no-write

How the warehouse is filled: not by a real build (at 100k customers sync + build take hours on
2 cores) but by set-based ``INSERT ... SELECT generate_series`` of unified rows shaped like a real
build's (``fill``): 208 employees in 8 regions, 100k customers with crosswalk and customer_360
rows, and per customer 2 contacts, 4 opportunities, 10 orders, 3 invoices, 3 receivables,
3 receipts, 2 ratings, 10 interactions, ~1.5 discrepancies. It runs in a fresh ``hub_bench_api_*``
database, migrated by Alembic like any warehouse, dropped afterwards (``--keep`` keeps it).

The API runs as ``hub serve`` in its own process; this process is the load: ``--clients`` threads,
each with a keep-alive connection, sending requests back to back. Latencies are measured at the
client (they include HTTP and the client's share of the 2 cores). Results go into the "api"
section of bench/results.md. No thresholds here: targets are read by people, not asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("HUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REGIONS, REPS_PER_REGION = 8, 25

FILL = [
    # people: 25 reps and one manager per region
    """INSERT INTO employee (employee_id, name, region, manager_employee_id, linked_by)
       SELECT 'M' || r, '经理' || r, '区域' || r, NULL, 'mobile' FROM generate_series(1, :regions) r
       UNION ALL
       SELECT 'E' || lpad(g::text, 4, '0'), '销售' || g, '区域' || (1 + (g - 1) / :reps), 'M' || (1 + (g - 1) / :reps),
              'mobile' FROM generate_series(1, :regions * :reps) g""",
    """INSERT INTO customer (customer_id, name, uscc, owner_employee_id, record_count, needs_review, updated_at)
       SELECT 'C' || lpad(g::text, 7, '0'), '客户' || g || '有限公司', NULL,
              'E' || lpad((1 + (g * 7919) % (:regions * :reps))::text, 4, '0'), 3, g % 97 = 0,
              now() - (g % 365) * interval '1 day'
       FROM generate_series(1, :n) g""",
    """INSERT INTO customer_xref (ref, customer_id, system, match_method, score, decided_by)
       SELECT s.sys || ':' || s.obj || ':' || g, 'C' || lpad(g::text, 7, '0'), s.sys, 'uscc', 1.0, 'rule'
       FROM generate_series(1, :n) g,
            (VALUES ('crm', 'AccountObj'), ('u8', 'customer'), ('finance', 'credit_rating')) s(sys, obj)""",
    """INSERT INTO customer_360 (customer_id, name, owner_employee_id, owner_name, manager_employee_id, manager_name,
              region, crm_level, grade, health_score, high_intent, open_opportunities, open_opportunity_cents,
              last_order_day, revenue_12m_cents, receivable_outstanding_cents, receivable_overdue_cents,
              last_receipt_day, last_receipt_cents, credit_rating, previous_credit_rating, credit_rating_change,
              credit_rated_day, last_contact_at, interactions_30d, tech_inquiries_90d, product_series_90d,
              downstream_customers, decision_maker_interactions_30d, competitor_mentions_90d, document_events_30d,
              response_minutes, completeness, as_of, build_id)
       SELECT c.customer_id, c.name, c.owner_employee_id, e.name, e.manager_employee_id, m.name, e.region, 'A',
              (ARRAY['S','A','B','C'])[1 + g % 4], g % 101, g % 101 >= 75, 4, 4000000 + g, current_date - g % 300,
              90000000 + g, 300000, CASE WHEN g % 3 = 0 THEN 100000 ELSE 0 END, current_date - g % 30, 100000,
              'BBB', CASE WHEN g % 11 = 0 THEN 'A' ELSE 'BBB' END, CASE WHEN g % 11 = 0 THEN -2 ELSE 0 END,
              current_date - 30, now() - (g % 20) * interval '1 day', g % 40, g % 5, g % 4, g % 9, g % 6, g % 3,
              g % 7, 35.5, 0.9, now(), 1
       FROM generate_series(1, :n) g
       JOIN customer c ON c.customer_id = 'C' || lpad(g::text, 7, '0')
       JOIN employee e ON e.employee_id = c.owner_employee_id JOIN employee m ON m.employee_id = e.manager_employee_id""",
    """INSERT INTO contact (ref, customer_ref, customer_id, system, name, job_title, mobile, is_decision_maker,
              created_at, is_deleted, completeness)
       SELECT 'crm:ContactObj:' || g || '-' || k, 'crm:AccountObj:' || g, 'C' || lpad(g::text, 7, '0'), 'crm',
              '联系人' || k, '采购经理', '138' || lpad(((g * 10 + k) % 100000000)::text, 8, '0'), k = 1,
              now() - k * interval '90 days', false, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 2) k""",
    """INSERT INTO opportunity (ref, customer_ref, customer_id, name, amount_cents, stage, status, close_day,
              created_at, modified_at, owner_employee_id, is_deleted, completeness)
       SELECT 'crm:NewOpportunityObj:' || g || '-' || k, 'crm:AccountObj:' || g, c.customer_id, '商机' || k,
              1000000 * k + g, (ARRAY['lead','needs','proposal','negotiation','won'])[1 + (g + k) % 5],
              CASE WHEN (g + k) % 5 = 4 THEN 'won' ELSE 'open' END, current_date - k * 20,
              now() - k * interval '60 days', now() - k * interval '7 days', c.owner_employee_id, false, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 4) k
       JOIN customer c ON c.customer_id = 'C' || lpad(g::text, 7, '0')""",
    """INSERT INTO sales_order (ref, customer_ref, customer_id, code, order_day, state, amount_cents,
              net_amount_cents, owner_employee_id, created_at, ship_status, completeness)
       SELECT 'u8:saleorderlist:SO' || g || '-' || k, 'u8:customer:' || g, 'C' || lpad(g::text, 7, '0'),
              'SO' || g || '-' || k, current_date - k * 30, '审核', 500000 + k, 442478 + k, NULL,
              now() - k * interval '30 days', '已发货', 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 10) k""",
    """INSERT INTO invoice (ref, customer_ref, customer_id, number, invoice_day, amount_cents, completeness)
       SELECT 'u8:saleinvoicelist:INV' || g || '-' || k, 'u8:customer:' || g, 'C' || lpad(g::text, 7, '0'),
              'INV' || g || '-' || k, current_date - k * 30, 500000, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 3) k""",
    """INSERT INTO receivable (ref, customer_ref, customer_id, code, receivable_day, due_day, amount_cents,
              balance_cents, owner_employee_id, completeness)
       SELECT 'u8:oughtreceivelist:AR' || g || '-' || k, 'u8:customer:' || g, 'C' || lpad(g::text, 7, '0'),
              'AR' || g || '-' || k, current_date - k * 30, current_date - k * 30 + 30, 500000,
              CASE WHEN k = 1 THEN 100000 ELSE 0 END, NULL, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 3) k""",
    """INSERT INTO receipt (ref, customer_ref, customer_id, code, receipt_day, amount_cents, completeness)
       SELECT 'u8:acceptlist:RC' || g || '-' || k, 'u8:customer:' || g, 'C' || lpad(g::text, 7, '0'),
              'RC' || g || '-' || k, current_date - k * 30 + 5, 400000, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 3) k""",
    """INSERT INTO credit_rating (ref, rated_day, customer_ref, customer_id, rating, previous_rating, notch_change,
              credit_limit_cents, credit_days, is_current, completeness)
       SELECT 'finance:credit_rating:' || g, current_date - k * 90, 'finance:credit_rating:' || g,
              'C' || lpad(g::text, 7, '0'), 'BBB', 'A', -1, 100000000, 30, k = 1, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 2) k""",
    """INSERT INTO interaction (ref, customer_ref, customer_id, channel, direction, contact_ref, rep_employee_id,
              occurred_at, msg_type, content, is_tech_inquiry, mentions_competitor, is_document,
              with_decision_maker, completeness)
       SELECT 'wecom:msg:' || g || '-' || k, 'crm:AccountObj:' || g, c.customer_id, 'wecom',
              CASE WHEN k % 2 = 0 THEN 'in' ELSE 'out' END, 'crm:ContactObj:' || g || '-1', c.owner_employee_id,
              now() - k * interval '3 days', 'text', '您好，关于第' || k || '批货的报价单请查收，谢谢。', k % 7 = 0,
              false, k % 5 = 0, k % 3 = 0, 1.0
       FROM generate_series(1, :n) g CROSS JOIN generate_series(1, 10) k
       JOIN customer c ON c.customer_id = 'C' || lpad(g::text, 7, '0')""",
    # ~1.5 discrepancies a customer: every customer one of R5/R7/R1..., every second one more.
    """INSERT INTO discrepancy (discrepancy_id, rule, severity, customer_id, customer_name, owner, region,
              amount_cents, refs, first_seen, last_seen, resolved_at, status, fingerprint, owner_employee_id, manager)
       SELECT r.rule || '|crm:NewOpportunityObj:' || g || '-' || r.k, r.rule,
              (ARRAY['red','orange','yellow'])[1 + (g + r.k) % 3], c.customer_id, c.name, e.name, e.region,
              (g * 7919 + r.k * 104729) % 50000000, '["crm:NewOpportunityObj:' || g || '-' || r.k || '"]',
              now() - ((g + r.k) % 200) * interval '1 day', now(), NULL,
              (ARRAY['open','open','open','acknowledged'])[1 + (g + r.k) % 4], md5(g || '-' || r.rule), e.employee_id,
              m.name
       FROM generate_series(1, :n) g
       JOIN customer c ON c.customer_id = 'C' || lpad(g::text, 7, '0')
       JOIN employee e ON e.employee_id = c.owner_employee_id JOIN employee m ON m.employee_id = e.manager_employee_id
       JOIN (VALUES ('R1', 1), ('R5', 2), ('R7', 3), ('R3', 4), ('R9', 5), ('R11', 6)) r(rule, k)
         ON r.k = 1 + g % 6 OR (g % 2 = 0 AND r.k = 1 + (g / 2) % 6 AND r.k <> 1 + g % 6)""",
]


def fill(engine, customers: int) -> dict[str, float]:
    """Fill the unified model set-based; seconds per statement."""
    seconds = {}
    params = {"n": customers, "regions": REGIONS, "reps": REPS_PER_REGION}
    with engine.begin() as conn:
        for sql in FILL:
            table = sql.split("INSERT INTO ", 1)[1].split(" ", 1)[0]
            start = time.perf_counter()
            conn.execute(text(sql), params)
            seconds[table] = round(time.perf_counter() - start, 1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def load(base: str, scenario, clients: int, seconds: float, warmup: int = 30) -> dict:
    """``clients`` threads run ``scenario(client, rng)`` back to back for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine, bad = [], 0
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(warmup // clients + 1):
                scenario(client, rng)
            ready.wait()
            while time.perf_counter() < deadline[0]:
                for elapsed, ok in scenario(client, rng):
                    mine.append(elapsed)
                    bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + 3600
    ready.wait()
    start = time.perf_counter()
    deadline[0] = start + seconds
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "errors": errors[0], "rps": round(len(ms) / wall, 1),
            "p50_ms": round(_pct(ms, 50), 1), "p95_ms": round(_pct(ms, 95), 1), "p99_ms": round(_pct(ms, 99), 1)}


def timed(client: httpx.Client, path: str, params=None, headers=None):
    start = time.perf_counter()
    response = client.get(path, params=params, headers=headers)
    return time.perf_counter() - start, response


def scenarios(keys: dict[str, str], customers: int, rep_customers: list[str]) -> dict:
    hq = {"Authorization": f"Bearer {keys['hq']}"}
    rep = {"Authorization": f"Bearer {keys['rep']}"}
    manager = {"Authorization": f"Bearer {keys['region_manager']}"}

    def detail_hq(client, rng):
        elapsed, r = timed(client, f"/customers/C{rng.randint(1, customers):07d}", headers=hq)
        return [(elapsed, r.status_code == 200)]

    def detail_rep(client, rng):
        elapsed, r = timed(client, f"/customers/{rng.choice(rep_customers)}", headers=rep)
        return [(elapsed, r.status_code == 200)]

    def discrepancies_hq(client, rng):
        params = {"limit": 50, "sort": rng.choice(["amount", "age"])}
        elapsed, r = timed(client, "/discrepancies", params, hq)
        return [(elapsed, r.status_code == 200)]

    def discrepancies_manager_pages(client, rng):
        out, params = [], {"limit": 50, "status": "open", "sort": "age", "rule": rng.choice(["R1", "R5", "R7"])}
        for _ in range(5):
            elapsed, r = timed(client, "/discrepancies", params, manager)
            out.append((elapsed, r.status_code == 200))
            cursor = r.json().get("next_cursor") if r.status_code == 200 else None
            if not cursor:
                break
            params = {**params, "cursor": cursor}
        return out

    return {"GET /customers/{id} as hq (random customer)": detail_hq,
            "GET /customers/{id} as rep (own customers)": detail_rep,
            "GET /discrepancies?limit=50 as hq (page 1, sort amount or age)": discrepancies_hq,
            "GET /discrepancies as region manager (open, one rule, by age, pages 1-5)": discrepancies_manager_pages}


def write_results(section: str) -> None:
    path = ROOT / "bench" / "results.md"
    body = path.read_text(encoding="utf-8")
    start = body.find("\n## api\n")
    if start >= 0:
        end = body.find("\n## ", start + 8)
        body = body[:start] + (body[end:] if end >= 0 else "\n")
    path.write_text(body.rstrip("\n") + "\n\n" + section, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (the second process)")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    args = parser.parse_args()

    from hub_api.keys import issue_key
    from hub_core.warehouse import make_engine, upgrade

    name = f"hub_bench_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        fill_seconds = fill(engine, args.customers)
        fill_total = round(time.perf_counter() - started, 1)
        print(f"filled {args.customers} customers in {fill_total} s: {fill_seconds}", flush=True)
        with engine.begin() as conn:
            keys = {"hq": issue_key(conn, name="bench-hq", role="hq", created_by="bench")[1],
                    "rep": issue_key(conn, name="bench-rep", role="rep", employee_id="E0001", created_by="bench")[1],
                    "region_manager": issue_key(conn, name="bench-mgr", role="region_manager", regions=["区域1"],
                                                created_by="bench")[1]}
            rep_customers = list(conn.execute(text("SELECT customer_id FROM customer WHERE owner_employee_id = 'E0001'"))
                                 .scalars())
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("customer", "discrepancy", "sales_order", "interaction")}
        engine.dispose()
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "hub_cli.main", "serve", "--warehouse", url, "--port", str(port)],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("the API did not start")
        results = {}
        for label, scenario in scenarios(keys, args.customers, rep_customers).items():
            results[label] = load(base, scenario, args.clients, args.seconds)
            print(label, results[label], flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    rows = "\n".join(f"| {label} | {r['requests']} | {r['errors']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | "
                     f"{r['p99_ms']} |" for label, r in results.items())
    section = f"""## api

API latency (bench/api_latency.py), PostgreSQL, {counts['customer']:,} customers, {counts['discrepancy']:,}
discrepancies, {counts['sales_order']:,} orders, {counts['interaction']:,} interactions; warehouse filled by
set-based inserts of unified rows shaped like a build ({fill_total} s), not by a real build. One `hub serve`
process (uvicorn, one worker); the load is a second process with {args.clients} keep-alive client threads,
{args.seconds:g} s per scenario after a warm-up. Latency measured at the client. Taken on the shared
2-core machine while other helpers ran: read them as an upper bound, not a capacity figure.

    python3 -m uv run --frozen python bench/api_latency.py --customers {args.customers} --clients {args.clients} --seconds {args.seconds:g}

| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms |
|---|---|---|---|---|---|---|
{rows}
"""
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
