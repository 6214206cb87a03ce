"""One stage of the hub, run in its own process so its time and peak memory are its own.

    python bench/stages.py sync      --warehouse URL --sources FILE [--only NAME] [--parallel N]
    python bench/stages.py build     --warehouse URL --as-of ISO
    python bench/stages.py resolve   --warehouse URL
    python bench/stages.py reconcile --warehouse URL --as-of ISO
    python bench/stages.py report    --warehouse URL --as-of ISO --out DIR
    python bench/stages.py bulk      --warehouse URL --sources FILE
    python bench/stages.py run       --warehouse URL --sources FILE --as-of ISO --out DIR [--parallel N]
    python bench/stages.py scaleout  --warehouse URL --sources FILE --as-of ISO --out DIR --dagster-storage URL

``run`` is sync, build, reconcile and report in one process, each step timed inside it (how
``hub run`` runs them, and how bench/run.py times a full and an incremental run).
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
import contextlib
import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # plain_fetch when run as a script

BATCH = 2000
#: the warm tap launcher started with the process (main), closed when the sync step ends
_EARLY = contextlib.ExitStack()


def _sources(path: str) -> list:
    from connectors.sources import parse_sources

    return parse_sources(json.loads(Path(path).read_text()))


def stage_sync(engine, args) -> dict:
    """Sync every source (or ``--only`` one) from the saved state (incremental), ``--parallel``
    at a time as ``hub sync`` does (connectors.sync.sync_sources)."""
    from connectors.sync import sync_sources

    sources = [s for s in _sources(args.sources) if not args.only or s.name == args.only]
    per_source, records, landed = {}, 0, 0
    with _EARLY:  # reaped here, so the launcher's and the taps' CPU count to this step
        results = sync_sources(engine, sources, parallel=args.parallel)
    for result in results:
        if result.status != "succeeded":
            raise SystemExit(f"sync of {result.source} {result.status}: {result.error}")
        per_source[result.source] = {"seconds": round(result.duration_s, 2), "records": result.seen,
                                     "landed": result.landed}
        records += result.seen
        landed += result.landed
    return {"records": records, "landed": landed, "per_source": per_source, "parallel": args.parallel}


def _raw_count(engine) -> int:
    from sqlalchemy import func, select

    from hub_core.schema import raw_record

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(raw_record)).scalar() or 0


def stage_build(engine, args) -> dict:
    """Raw -> unified model and customer_360 (incremental when a build ran before)."""
    from mappings.build import build_customer360

    stats = build_customer360(engine, as_of=datetime.fromisoformat(args.as_of))
    return {"records": lambda: _raw_count(engine), "mode": stats.mode, "customers": stats.customers,
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

    def records() -> int:
        with engine.connect() as conn:
            return sum(conn.execute(select(func.count()).select_from(t)).scalar() or 0
                       for t in (stg_sales_order, stg_opportunity))

    return {"records": records, "pairs": result.pairs, "found": result.found, "mode": result.mode,
            "scope_customers": result.scope_customers, "why_full": result.why_full}


def stage_report(engine, args) -> dict:
    """The consistency report files; records = customers in the build's customer_360 (candidate:
    the bench does not run the publish gate)."""
    from sqlalchemy import func, select

    from hub_core.schema import metadata
    from quality.report import write_report

    files = write_report(engine, Path(args.out), as_of=datetime.fromisoformat(args.as_of))
    table = metadata.tables["customer_360_candidate"]

    def records() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar() or 0

    return {"records": records, "discrepancies": files.discrepancies, "files": len(files.files)}


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


def settle(figures: dict) -> dict:
    """``figures`` with its ``records`` counted now, if the stage left a function for it: counting
    is the bench's bookkeeping (a count(*) over the 452k raw rows of the 10k world takes ~0.15 s),
    not the hub's work, so it runs after the stage's clock stopped."""
    if callable(figures.get("records")):
        figures["records"] = figures["records"]()
    return figures


#: what ``run`` does in one process, in order (what ``hub run`` materializes, without Dagster)
PIPELINE = ("sync", "build", "reconcile", "report")


def _cpu_s() -> float:
    """CPU seconds (user + sys) of this process and of the children it waited for (the taps)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _reset_peak() -> bool:
    """Start this process's peak RSS afresh (Linux: ``5`` to /proc/self/clear_refs), so each step
    of ``run`` reports its own peak rather than the largest so far; False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb(reset: bool, kids_before: int) -> int:
    """The step's peak RSS (MB): this process's since the reset (else since start), or a tap's
    if a tap waited for in this step grew larger (the kernel keeps only the largest child)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if reset:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1])
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids if kids > kids_before else 0) / 1024)


def stage_run(engine, args) -> dict:
    """Sync, build, reconcile and report in this one process, as ``hub run`` runs a pipeline (one
    process, the taps its children), each step timed inside it: wall and CPU seconds (with its
    taps) and its own peak RSS. The process's start-up (interpreter, imports, opening the
    warehouse) is what /usr/bin/time adds around the steps: bench/run.py reports it as ``start``."""
    steps: dict[str, dict] = {}
    for name in (args.steps.split(",") if args.steps else PIPELINE):
        reset, kids = _reset_peak(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        cpu, t = _cpu_s(), time.perf_counter()
        figures = STAGES[name](engine, args)
        wall = round(time.perf_counter() - t, 2)
        steps[name] = settle(figures) | {"seconds": wall, "inside_s": wall, "cpu_s": round(_cpu_s() - cpu, 2),
                                         "peak_rss_mb": _peak_mb(reset, kids)}
    return {"records": next(iter(steps.values()))["records"], "steps": steps}


STAGES = {"sync": stage_sync, "build": stage_build, "resolve": stage_resolve, "reconcile": stage_reconcile,
          "report": stage_report, "bulk": stage_bulk, "scaleout": stage_scaleout, "run": stage_run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--sources", help="sources file (JSON) for sync / bulk")
    parser.add_argument("--only", help="one source name")
    parser.add_argument("--steps", help=f"run: these steps only, in order (default {','.join(PIPELINE)})")
    parser.add_argument("--parallel", type=int, default=1, help="sync: sources at once (hub sync --parallel)")
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--out", default="report-out")
    parser.add_argument("--dagster-storage", help="scaleout: PostgreSQL URL (psycopg2) for Dagster's storage")
    parser.add_argument("--max-concurrent", type=int, default=4, help="scaleout: steps at once")
    args = parser.parse_args()
    if args.stage == "sync" or (args.stage == "run" and "sync" in (args.steps or "sync").split(",")):
        # as ``hub run`` does (orchestration/run.py): the taps' launcher imports singer_sdk while
        # this process imports the hub and opens the warehouse
        from connectors import warm_taps

        _EARLY.enter_context(warm_taps.session())
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(args.warehouse)
    t = time.perf_counter()
    figures = STAGES[args.stage](engine, args)
    figures["inside_s"] = round(time.perf_counter() - t, 2)  # the work, without start-up and imports
    settle(figures)
    print(json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
