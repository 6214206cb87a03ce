"""The build (raw -> unified model -> customer_360) at scale: full, entity resolution alone,
unchanged, and incremental after 1 % of the records changed; seconds and peak RSS per step.

    python3 -m uv run --frozen python bench/build.py --customers 10000
    python3 -m uv run --frozen python bench/build.py --customers 10000 --warehouse sqlite --profile /tmp/prof
    python3 -m uv run --frozen python bench/build.py --customers 100000 --repeat-orders 8 \\
        --warehouse postgresql+psycopg://postgres@127.0.0.1:5432

No simulators and no taps: a generated world (cached, ``bench/generate.py`` via ``run.world_for``)
is landed straight into a fresh warehouse through the connectors' loader (the records the taps
would land, with the same key properties), then each step runs as a child process under
``/usr/bin/time`` (``run.child``: wall seconds, peak RSS as the kernel accounts it; ``inside_s``
is the work without interpreter start-up and imports; ``inside_cpu_s`` its CPU seconds):

1. ``resolve``: entity resolution alone, from scratch, on the landed raw records (in a
   transaction rolled back, so the build that follows starts from nothing);
2. ``full``: the first build (full);
3. ``unchanged``: the same build again (nothing landed: must write nothing);
4. ``as_of+1d``: nothing landed, as-of a day later (customer_360 rows the day moves recomputed,
   nothing else);
5. ``incremental``: after ``incremental.change_one_percent`` edited ~1 % of the accounts, deals,
   U8 customers and recent orders and the whole world was landed again (the loader keeps only
   what changed), an incremental build as of the same instant as the build before it (a day
   later): customer_360 is recomputed only for the customers the changes reach;
6. ``incremental+1h``: another ~1 % change (a second pick: records the first changed and this one
   did not are re-landed as they were, so up to ~2 % of those streams), built as of an hour
   later, as ``hub run`` builds as of now: customer_360 recomputed for the customers the changes
   reach and those the moved as-of reaches (mappings/c360_asof.py);
7. with ``--verify``: a full rebuild (same as-of), whose tables must equal the incremental result.

``--profile DIR`` writes a cProfile of every step (``DIR/<warehouse>-<step>.prof``); ``--phases``
adds peak RSS and CPU seconds per phase of every build (``follow_phases``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import PG_DEFAULT, Database, child, world_for

SYSTEMS = ("crm", "u8", "finance", "wecom")
# what the taps lift to the top level before landing (tap-wecom: the contact's key fields)
LIFTED = {"external_contacts": lambda r: {"external_userid": r["external_contact"]["external_userid"],
                                          "userid": r["follow_info"]["userid"], **r}}


def land(url: str, world, run_id: int) -> dict:
    """Every stream of ``world`` (a world dict, or the path of a world file, read one record at a
    time: ``world_stream``) through the connectors' loader; returns records landed per source (a
    re-land of unchanged records lands nothing: the loader compares hashes)."""
    from itertools import groupby

    from world_stream import iter_world, records_of

    from connectors.landing import SingerLoader
    from hub_core.warehouse import open_warehouse
    from tests.mappings.test_hostile_world import KEYS

    records = records_of(world) if isinstance(world, dict) else iter_world(world)
    engine = open_warehouse(url)
    landed = {}
    for system, of_system in groupby(records, key=lambda x: x[0]):
        if system not in SYSTEMS:
            continue

        def lines(of_system=of_system):
            current = None
            for _, stream, r in of_system:  # noqa: B031 - consumed before groupby moves on
                if stream != current:
                    current = stream
                    yield orjson.dumps({"type": "SCHEMA", "stream": stream, "schema": {"type": "object"},
                                        "key_properties": KEYS[stream]})
                lift = LIFTED.get(stream)
                yield orjson.dumps({"type": "RECORD", "stream": stream, "record": lift(r) if lift else r})

        landed[system] = landed.get(system, 0) + SingerLoader(engine, system, run_id).feed(lines()).landed
    engine.dispose()
    return landed


# --- the steps, each in a child process ------------------------------------------------------

def step_build(url: str, as_of: str, full: bool) -> dict:
    from hub_core.warehouse import open_warehouse
    from mappings.build import build_customer360

    stats = build_customer360(open_warehouse(url), as_of=datetime.fromisoformat(as_of), incremental=not full)
    return {"mode": stats.mode, "customers": stats.customers, "customer_records": stats.customer_records,
            "rows_mapped": sum(stats.rows.values()), "customer_360": stats.customer_360}


def step_resolve(url: str, as_of: str, full: bool) -> dict:
    """Entity resolution from scratch, rolled back."""
    from hub_core.warehouse import open_warehouse
    from mappings.config import load_mapping
    from mappings.identity import resolve_customers

    engine = open_warehouse(url)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            stats = resolve_customers(conn, load_mapping(), None, datetime.fromisoformat(as_of), full=True)
        finally:
            trans.rollback()
    return {"records": stats.records, "customers": stats.customers, "review": stats.review,
            "contacts": stats.contacts}


def step_snapshot(url: str, as_of: str, full: bool) -> dict:
    """A digest of every rebuilt table (what --verify compares)."""
    import hashlib

    from sqlalchemy import select

    from hub_core.schema import customer, customer_xref, metadata
    from hub_core.warehouse import open_warehouse
    from mappings.build import _REBUILT

    out = {}
    with open_warehouse(url).connect() as conn:
        for table in [metadata.tables[n] for n in _REBUILT] + [customer, customer_xref]:
            cols = [c for c in table.c if c.name not in ("build_id", "id")]
            rows = sorted(repr(tuple(str(v) for v in r)) for r in conn.execute(select(*cols)))
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    return out


TIMING = ("inside_s", "inside_cpu_s", "seconds", "cpu_s", "peak_rss_mb", "phases", "phase_top_mb")


def _cpu() -> float:
    """User + system CPU seconds of this process so far: on a loaded machine wall time measures the
    neighbours too (the database server's own CPU, PostgreSQL's, is not in it)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


STEPS = {"build": step_build, "resolve": step_resolve, "snapshot": step_snapshot}

# what ``--phases`` follows inside a build: the names mappings/build.py calls (and the mapper's methods)
PHASES = ("link_employees", "resolve_customers", "link_customers", "link_contacts", "resolve_parties",
          "flag_signals", "rate_notches", "stage_opportunities", "stage_sales_orders", "build_customer_360",
          "rebuild_completeness", "update_completeness", "CompletenessLog", "Affected")
MAPPER_PHASES = ("run", "flush", "changed_refs", "forget")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def follow_phases() -> dict:
    """Peak RSS per phase of a build (``--phases``): the kernel's high-water mark is reset to the
    current RSS before each call (``/proc/self/clear_refs``) and read after it, so a phase's peak is
    what it reached, the memory earlier phases kept included (``start_mb``: RSS when it began).
    Resetting the mark also lowers the child's peak as wait4 reports it: the step's true peak is
    the largest mark read here (``peak_rss_mb`` is overwritten with it)."""
    import functools

    import mappings.build as build
    from mappings.declarative.engine import Mapper

    out: dict[str, dict] = {}
    top = [0.0]

    def wrap(name, fn):
        @functools.wraps(fn)
        def inner(*a, **kw):
            top[0] = max(top[0], _status_mb("VmHWM"))
            Path("/proc/self/clear_refs").write_text("5")
            start, cpu = _status_mb("VmRSS"), _cpu()
            try:
                return fn(*a, **kw)
            finally:
                peak = _status_mb("VmHWM")
                top[0] = max(top[0], peak)
                rec = out.setdefault(name, {"calls": 0, "start_mb": round(start), "peak_mb": 0, "rise_mb": 0,
                                            "cpu_s": 0.0})
                rec["calls"] += 1
                rec["peak_mb"] = max(rec["peak_mb"], round(peak))
                rec["rise_mb"] = max(rec["rise_mb"], round(peak - start))  # what one call added
                rec["cpu_s"] = round(rec["cpu_s"] + _cpu() - cpu, 2)
        return inner

    for name in PHASES:
        setattr(build, name, wrap(name, getattr(build, name)))
    for name in MAPPER_PHASES:
        setattr(Mapper, name, wrap(f"mapper.{name}", getattr(Mapper, name)))
    return {"phases": out, "top": top}


def run_child(argv: list[str]) -> None:
    step, url, as_of, full, profile = argv[0], argv[1], argv[2], argv[3] == "full", argv[4]
    import alembic.command  # noqa: F401 - open_warehouse's migration check imports it (0.3 s of CPU)

    import mappings.build
    import mappings.identity  # noqa: F401

    followed = follow_phases() if os.environ.get("HUB_BENCH_PHASES") else None
    t, cpu = time.perf_counter(), _cpu()
    if profile != "-":
        import cProfile

        prof = cProfile.Profile()
        figures = prof.runcall(STEPS[step], url, as_of, full)
        prof.dump_stats(profile)
    else:
        figures = STEPS[step](url, as_of, full)
    figures["inside_s"] = round(time.perf_counter() - t, 2)
    figures["inside_cpu_s"] = round(_cpu() - cpu, 2)
    if followed:
        figures["phases"] = followed["phases"]
        figures["phase_top_mb"] = round(max(followed["top"][0], _status_mb("VmHWM")))
    print(json.dumps(figures, default=str))


# --- the parent ------------------------------------------------------------------------------

def one_warehouse(spec: str, world_path: Path, tmp: Path, verify: bool, profile: Path | None,
                  skip: frozenset[str] = frozenset()) -> dict:
    from incremental import change_one_percent
    from world_stream import changed_world, world_meta

    as_of = world_meta(world_path)["now"]
    later = (datetime.fromisoformat(as_of) + timedelta(days=1)).isoformat()
    db = Database(spec, tmp)
    kind = spec.split(":")[0].split("+")[0]
    res: dict[str, object] = {}

    def step(label: str, name: str, at: str = as_of, full: bool = False) -> dict:
        print(f"  {kind} {label} ...", file=sys.stderr, flush=True)
        prof = str(profile / f"{kind}-{label}.prof") if profile else "-"
        figures = child([sys.executable, __file__, "--child", name, url, at, "full" if full else "inc", prof])
        if figures.get("phase_top_mb"):  # --phases reset the kernel's mark: its own reading is the peak
            figures["peak_rss_mb"] = max(figures["peak_rss_mb"] or 0, figures["phase_top_mb"])
        print(f"    {figures}", file=sys.stderr, flush=True)
        res[label] = figures
        return figures

    try:
        url = db.fresh()
        t = time.perf_counter()
        res["landed"] = land(url, world_path, 1)
        res["land_s"] = round(time.perf_counter() - t, 1)
        res["raw_records"] = sum(res["landed"].values())
        if "resolve" not in skip:  # (the full build resolves too: --phases shows its resolve_customers)
            step("resolve", "resolve")
        step("full", "build")
        step("unchanged", "build")
        step("as_of+1d", "build", at=later)
        changed, res["changes"] = changed_world(world_path, random.Random(7), change_one_percent)
        t = time.perf_counter()
        res["relanded"] = land(url, changed, 2)
        res["reland_s"] = round(time.perf_counter() - t, 1)
        step("incremental", "build", at=later)
        # production: `hub run` builds as of now, so the as-of moves on every build
        moved = (datetime.fromisoformat(later) + timedelta(hours=1)).isoformat()
        changed, res["changes_2"] = changed_world(world_path, random.Random(8), change_one_percent)
        res["relanded_2"] = land(url, changed, 3)
        step("incremental+1h", "build", at=moved)
        if verify:
            inc = step("snapshot:incremental", "snapshot")
            step("full_again", "build", at=moved, full=True)
            again = step("snapshot:full", "snapshot")
            differs = sorted(k for k in inc if k not in TIMING and inc[k] != again.get(k))
            res["verified_identical"] = not differs
            if differs:
                res["differs"] = differs
    finally:
        db.drop()
    for label in ("unchanged", "as_of+1d", "incremental", "incremental+1h"):
        if label not in res:
            continue
        res[f"{label}_share"] = round(res[label]["seconds"] / res["full"]["seconds"], 3)
        if res["full"].get("inside_cpu_s"):
            res[f"{label}_cpu_share"] = round(res[label]["inside_cpu_s"] / res["full"]["inside_cpu_s"], 3)
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, nargs="+", default=[10_000])
    p.add_argument("--repeat-orders", type=float, default=1.0, help="scale repeat U8 orders (8 at 100k: ~1M)")
    p.add_argument("--warehouse", action="append",
                   help=f"'sqlite' or a PostgreSQL server URL without database (default: both, {PG_DEFAULT})")
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hub-bench-worlds")
    p.add_argument("--verify", action="store_true", help="also compare the incremental result with a full rebuild")
    p.add_argument("--profile", type=Path, help="write a cProfile per step into this folder")
    p.add_argument("--out", type=Path, help="append the results (one JSON line per run) to this file")
    p.add_argument("--phases", action="store_true",
                   help="also report peak RSS and CPU per phase of each build (mappings/build.py's calls)")
    p.add_argument("--skip", action="append", choices=["resolve"], default=[],
                   help="leave out a step (at 100k the separate resolution costs minutes the full build spends again)")
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        run_child(args.child)
        return
    if args.phases:
        os.environ["HUB_BENCH_PHASES"] = "1"
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    for customers in args.customers:
        t = time.perf_counter()
        world_path = world_for(customers, args.repeat_orders, args.cache)
        print(f"{customers} customers: world {world_path} ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
        for spec in args.warehouse or ["sqlite", PG_DEFAULT]:
            tmp = Path(tempfile.mkdtemp(prefix="hub-bench-build-"))
            res = one_warehouse(spec, world_path, tmp, args.verify, args.profile, frozenset(args.skip))
            line = {"customers": customers, "repeat_orders": args.repeat_orders,
                    "warehouse": spec.split(":")[0].split("+")[0], "started": time.strftime("%Y-%m-%d %H:%M UTC"),
                    **res}
            print(json.dumps(line, default=str), flush=True)
            if args.out:
                with args.out.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(line, default=str) + "\n")


if __name__ == "__main__":
    main()
