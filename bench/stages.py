"""One stage of the hub, run in its own process so its time and peak memory are its own.

    python bench/stages.py sync      --warehouse URL --sources FILE [--only NAME]
    python bench/stages.py build     --warehouse URL --as-of ISO
    python bench/stages.py resolve   --warehouse URL
    python bench/stages.py reconcile --warehouse URL --as-of ISO
    python bench/stages.py report    --warehouse URL --as-of ISO --out DIR
    python bench/stages.py bulk      --warehouse URL --sources FILE
    python bench/stages.py scaleout  --warehouse URL --sources FILE --as-of ISO --out DIR --dagster-storage URL

``bench/run.py`` starts each one as a child and reads its wall time and peak RSS from the
operating system (``os.wait4``); the stage prints one JSON line: the records it handled and what
it found. ``resolve`` times entity resolution alone (stage, match, write the crosswalk) on the
built warehouse inside a transaction it rolls back, so it changes nothing. ``bulk`` is the
practical limit of raw landing: the same records fetched from the simulators by a bare client
(``bench/plain_fetch.py``) and written with one SQLAlchemy Core ``executemany`` per batch -
no validation, no hashing, no dedupe, no state. ``scaleout`` runs the hub's whole Dagster job
(``orchestration.definitions.multiprocess_job``: every source's sync, the build, R1-R11, the
report) on Dagster's multiprocess executor - each step in its own process, the sources in
parallel - with Dagster's run, event and schedule storage in PostgreSQL (dagster-postgres).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # plain_fetch when run as a script

BATCH = 2000


def _sources(path: str) -> list:
    from connectors.sources import parse_sources

    return parse_sources(json.loads(Path(path).read_text()))


def stage_sync(engine, args) -> dict:
    """Sync every source (or ``--only`` one) in turn, from the saved state (incremental)."""
    from connectors.sync import sync_source

    per_source, records, landed = {}, 0, 0
    for source in _sources(args.sources):
        if args.only and source.name != args.only:
            continue
        t = time.perf_counter()
        result = sync_source(engine, source)
        if result.status != "succeeded":
            raise SystemExit(f"sync of {source.name} {result.status}: {result.error}")
        per_source[source.name] = {"seconds": round(time.perf_counter() - t, 2), "records": result.seen,
                                   "landed": result.landed}
        records += result.seen
        landed += result.landed
    return {"records": records, "landed": landed, "per_source": per_source}


def _raw_count(engine) -> int:
    from sqlalchemy import func, select

    from hub_core.schema import raw_record

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(raw_record)).scalar() or 0


def stage_build(engine, args) -> dict:
    """Raw -> unified model and customer_360 (incremental when a build ran before)."""
    from mappings.build import build_customer360

    stats = build_customer360(engine, as_of=datetime.fromisoformat(args.as_of))
    return {"records": _raw_count(engine), "mode": stats.mode, "customers": stats.customers,
            "customer_records": stats.customer_records, "orders": stats.orders}


def stage_resolve(engine, args) -> dict:
    """Entity resolution alone over every customer record (``full``), in a transaction rolled
    back at the end."""
    from mappings.build import resolve_customers
    from mappings.config import load_mapping
    from mappings.employees import load_employees

    cfg = load_mapping()
    conn = engine.connect()
    trans = conn.begin()
    try:
        stats = resolve_customers(conn, cfg, load_employees(conn), full=True)  # all records, not only changes
    finally:
        trans.rollback()
        conn.close()
    return {"records": stats.records, "customers": stats.customers, "review": stats.review,
            "rematched": stats.rematched}


def stage_reconcile(engine, args) -> dict:
    """R1-R11 over the unified model; records = the orders and opportunities the rules read."""
    from sqlalchemy import func, select

    from hub_core.schema import stg_opportunity, stg_sales_order
    from quality.reconcile import reconcile

    result = reconcile(engine, as_of=datetime.fromisoformat(args.as_of))
    with engine.connect() as conn:
        n = sum(conn.execute(select(func.count()).select_from(t)).scalar() or 0
                for t in (stg_sales_order, stg_opportunity))
    return {"records": n, "pairs": result.pairs, "found": result.found}


def stage_report(engine, args) -> dict:
    """The consistency report files; records = customers in the build's customer_360 (candidate:
    the bench does not run the publish gate)."""
    from sqlalchemy import func, select

    from hub_core.schema import metadata
    from quality.report import write_report

    files = write_report(engine, Path(args.out), as_of=datetime.fromisoformat(args.as_of))
    table = metadata.tables["customer_360_candidate"]
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar() or 0
    return {"records": n, "discrepancies": files.discrepancies, "files": len(files.files)}


def stage_bulk(engine, args) -> dict:
    """Plain fetch + SQLAlchemy Core executemany of the same records (the practical limit)."""
    import plain_fetch
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

    meta = MetaData()
    table = Table("bench_bulk", meta, Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("source", String(32)), Column("stream", String(64)), Column("key", String(200)),
                  Column("data", JSON))
    meta.drop_all(engine, [table])
    meta.create_all(engine, [table])
    config = json.loads(Path(args.sources).read_text())["sources"]
    n, batch, per_source = 0, [], {}
    t = time.perf_counter()
    with engine.begin() as conn:
        for source, stream, key, record in plain_fetch.fetch_all(config, only=args.only):
            batch.append({"source": source, "stream": stream, "key": key, "data": record})
            per_source[source] = per_source.get(source, 0) + 1
            if len(batch) >= BATCH:
                conn.execute(insert(table), batch)
                n += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            n += len(batch)
    meta.drop_all(engine, [table])
    return {"records": n, "per_source": per_source, "seconds_inside": round(time.perf_counter() - t, 2)}


def stage_scaleout(engine, args) -> dict:
    """customer360_job on the multiprocess executor, Dagster's storage in PostgreSQL."""
    import os

    import dagster as dg

    from orchestration.definitions import multiprocess_job

    if not args.dagster_storage:
        raise SystemExit("scaleout needs --dagster-storage (a PostgreSQL URL for Dagster's own storage)")
    home = Path(args.out) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(json.dumps({  # JSON is valid YAML
        "storage": {"postgres": {"postgres_url": args.dagster_storage}}, "telemetry": {"enabled": False}}))
    # the step processes rebuild the definitions from the environment
    os.environ.update(DAGSTER_HOME=str(home), HUB_ENV="local", HUB_WAREHOUSE_URL=args.warehouse,
                      HUB_CONNECTORS_FILE=args.sources, HUB_OUTPUT_DIR=str(Path(args.out) / "scaleout-report"))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.execute_job(
            dg.reconstructable(multiprocess_job), instance=instance, raise_on_error=False,
            run_config={"execution": {"config": {"max_concurrent": args.max_concurrent, "start_method": {
                "forkserver": {"preload_modules": ["orchestration.definitions"]}}}},
                        "ops": {"discrepancies": {"config": {"as_of": args.as_of}}}})
        steps: dict[str, dict] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is not None and event.step_key and (event.is_step_start or event.is_step_success):
                steps.setdefault(event.step_key, {})["start" if event.is_step_start else "end"] = entry.timestamp
                steps[event.step_key].setdefault("pids", set()).add(event.pid)
        storage = type(instance.run_storage).__name__
    if not result.success:
        failed = [e.message for e in result.all_events if e.is_failure][:3]
        raise SystemExit(f"the multiprocess job failed: {failed}")
    t0 = min(s["start"] for s in steps.values() if "start" in s)
    timeline = {k: [round(s["start"] - t0, 1), round(s["end"] - t0, 1)] for k, s in sorted(steps.items())
                if "start" in s and "end" in s}
    return {"records": _raw_count(engine), "run_storage": storage, "steps": timeline,
            "processes": len({p for s in steps.values() for p in s.get("pids", ())})}


STAGES = {"sync": stage_sync, "build": stage_build, "resolve": stage_resolve, "reconcile": stage_reconcile,
          "report": stage_report, "bulk": stage_bulk, "scaleout": stage_scaleout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--sources", help="sources file (JSON) for sync / bulk")
    parser.add_argument("--only", help="one source name")
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--out", default="report-out")
    parser.add_argument("--dagster-storage", help="scaleout: PostgreSQL URL (psycopg2) for Dagster's storage")
    parser.add_argument("--max-concurrent", type=int, default=4, help="scaleout: steps at once")
    args = parser.parse_args()
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(args.warehouse)
    t = time.perf_counter()
    figures = STAGES[args.stage](engine, args)
    figures["inside_s"] = round(time.perf_counter() - t, 2)  # the work, without start-up and imports
    print(json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
