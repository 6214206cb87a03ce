"""The whole benchmark in one command: every stage timed on its own, next to a dlt peer and a
plain bulk insert of the same records, on SQLite and PostgreSQL; writes bench/results.md + plots.

    python3 -m uv run --frozen python bench/run.py --quick            # 10k customers, PostgreSQL only
    python3 -m uv run --frozen python bench/run.py --quick --sizes 1000   # the same on 1k: ~5 min
    python3 -m uv run --frozen python bench/run.py                    # 10k and 100k (~1M orders), both: long
    ... --warehouse sqlite --warehouse postgresql+psycopg://postgres@127.0.0.1:5432

Per world and warehouse, each in a fresh database: sync (simulators -> raw), build (raw ->
unified), reconcile (R1-R11), report - a full run, then the same after ~1 % of the records
changed (bench/incremental.py's change), each run in one process as ``hub run`` runs it
(stages.py ``run``: every step timed inside it, the process's start-up a row of its own;
``--stage-processes``: each step its own process, as before) - and entity resolution alone; then the yardsticks into the same
database: a plain SQLAlchemy bulk insert and dlt (append, and merge twice; once with --quick);
then scale-out: on PostgreSQL the whole Dagster job on the multiprocess executor with Dagster's
storage in PostgreSQL (stages.py ``scaleout``), against the in-process stages; on SQLite (one
writer, full runs only) one ``sync`` process per source in parallel. ``--quick`` times entity
resolution once (it is a full pass either way) and runs the scale-out comparison - in-process
stages and the job, both - on a world a tenth the size instead of repeating the main world's sync
and build (bench/README.md has the table). Every stage is a child process (bench/stages.py)
started under /usr/bin/time: wall seconds, CPU seconds (user + sys, with the taps it waited for)
and its peak RSS as the kernel accounts it (wait4). The simulators run unthrottled in this process (bench/serve.py; the taps'
call budgets are lifted with ``rate_limits: []``).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432"
DLT_VENV = HERE / ".venv-dlt"


def timed(args: list[str], rss_file: Path) -> list[str]:
    """``args`` under /usr/bin/time writing the peak RSS (kB) to ``rss_file``. A child forked
    straight from this process would count this process's own memory (the world, the simulators)
    in its peak: the kernel keeps the pre-exec high-water mark. /usr/bin/time is small, and it
    reads its child's peak with wait4 - the child's or its largest waited-for tap process's."""
    return ["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss_file), *args] if Path("/usr/bin/time").exists() else args


def _time_line(rss_file: Path) -> list[str]:
    lines = rss_file.read_text().strip().splitlines() if rss_file.exists() else []
    parts = lines[-1].split() if lines else []
    return parts if len(parts) == 3 and parts[0].isdigit() else []


def _rss_mb(rss_file: Path) -> int | None:
    parts = _time_line(rss_file)
    return round(int(parts[0]) / 1024) if parts else None


def _cpu_s(rss_file: Path) -> float | None:
    """User + system CPU seconds of the child and the processes it waited for (its taps): on a
    shared, loaded machine the figure to compare, where wall seconds also count waiting for a core."""
    parts = _time_line(rss_file)
    return round(float(parts[1]) + float(parts[2]), 2) if parts else None


def child(args: list[str], env: dict | None = None, watch=None) -> dict:
    """Run one child process; its JSON line plus wall seconds and peak RSS (MB). ``watch(pid)``,
    when given, is started with the process and its ``finish()`` figures are added (e.g.
    ``sync_memory.TreePeaks``: the peaks of the stage and its tap apart)."""
    rss = Path(tempfile.mktemp(prefix="rss-"))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(timed(args, rss), stdout=out, stderr=err, env=env, text=True)
        watcher = watch(proc.pid) if watch else None
        code = proc.wait()
        extra = watcher.finish() if watcher else {}
        wall = time.perf_counter() - t
        out.seek(0), err.seek(0)
        if code:
            raise RuntimeError(f"{' '.join(args[1:3])} failed ({code}): {err.read().strip()[-2000:]}")
        figures = json.loads(out.read().strip().splitlines()[-1])
    peak, cpu = _rss_mb(rss), _cpu_s(rss)
    rss.unlink(missing_ok=True)
    return figures | {"seconds": round(wall, 2), "cpu_s": cpu, "peak_rss_mb": peak} | extra


def children(argv: list[list[str]], env: dict) -> tuple[float, list[tuple[str, int, float]]]:
    """Start processes together and reap them: (wall, [(name, peak RSS MB, seconds)])."""
    t = time.perf_counter()
    errs, procs, rss = {}, {}, {}
    for a in argv:
        errs[a[-1]] = tempfile.TemporaryFile("w+")
        rss[a[-1]] = Path(tempfile.mktemp(prefix="rss-"))
        procs[subprocess.Popen(timed(a, rss[a[-1]]), stdout=subprocess.DEVNULL, stderr=errs[a[-1]], env=env,
                               text=True).pid] = a
    done = []
    while procs:
        pid, status = os.waitpid(-1, 0)
        if pid in procs:
            name = procs.pop(pid)[-1]
            if status:
                errs[name].seek(0)
                raise RuntimeError(f"parallel sync of {name} failed: {errs[name].read().strip()[-1500:]}")
            done.append((name, _rss_mb(rss[name]) or 0, time.perf_counter() - t))
    return time.perf_counter() - t, done


def world_for(customers: int, repeat_orders: float, cache: Path) -> Path:
    """``world.json`` of ``customers`` (cached); bench/generate.py when present (streams to disk,
    knows ``--repeat-orders``), else the generator's ``write``."""
    out = cache / f"w{customers}-r{repeat_orders:g}"
    if (out / "world.json").exists():
        return out / "world.json"
    gen = HERE / "generate.py"
    if gen.exists():
        subprocess.run([sys.executable, str(gen), "--customers", str(customers), "--repeat-orders",
                        str(repeat_orders), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    else:
        from simulators.generator import write

        write(out, seed=7, customers=customers)
    return out / "world.json"


class Database:
    """A fresh warehouse per run: a new SQLite file or a new PostgreSQL database (dropped after)."""

    def __init__(self, spec: str, tmp: Path) -> None:
        self.spec, self.tmp, self.name = spec, tmp, None

    def fresh(self) -> str:
        self.drop()
        if self.spec == "sqlite":
            path = self.tmp / f"wh-{uuid.uuid4().hex[:8]}.db"
            self.name = path
            return f"sqlite:///{path}"
        self.name = f"hub_bench_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        return f"{self.spec.rstrip('/')}/{self.name}"

    def drop(self) -> None:
        if self.name is None:
            return
        if self.spec == "sqlite":
            Path(self.name).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.name = None

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(f"{self.spec.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()


def dlt_python() -> str | None:
    """The isolated dlt venv's interpreter (made once with uv; None when it cannot be made)."""
    py = DLT_VENV / "bin" / "python"
    if not py.exists():
        uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
        made = subprocess.run(uv + ["venv", "-q", "--python", "3.11", str(DLT_VENV)], check=False).returncode == 0
        if not made or subprocess.run(uv + ["pip", "install", "-q", "--python", str(py),
                                            "dlt[sqlalchemy,postgres]"], check=False).returncode:
            return None
    return str(py)


def one_warehouse(spec: str, sim, tmp: Path, as_of: str, quick: bool, one_process: bool = True,
                  parallel: int = 1, checkpoint=lambda res: None) -> dict:
    """Every measurement for one world on one kind of warehouse (with ``quick``: no second
    ``resolve``, one dlt merge pass, and no scale-out here - ``quick_scale_out`` measures it).
    ``one_process``: each run's sync, build, reconcile and report in one process (``run``),
    else each in its own; ``parallel``: sources synced at once."""
    from incremental import change_one_percent

    db = Database(spec, tmp)
    res: dict[str, dict] = {}
    stage = stage_runner(spec, sim, tmp, as_of)
    try:
        url = db.fresh()
        for phase in ("full", "incremental"):
            if phase == "incremental":
                res["changes"] = sim.change(lambda data: change_one_percent(data, random.Random(7)))
            if one_process:
                res |= pipeline_run(stage, url, phase, parallel)
                checkpoint(res)
            else:
                for name in STAGE_NAMES:
                    if name != "resolve":
                        res[f"{phase}:{name}"] = stage(name, url, *(["--parallel", str(parallel)] if name == "sync" else []))
                        checkpoint(res)
            # ``resolve`` is entity resolution over *every* record (full=True) on the built
            # warehouse, rolled back: after 1 % changed it is the same work again, so --quick runs it once.
            if not (quick and phase == "incremental"):
                res[f"{phase}:resolve"] = stage("resolve", url)
                checkpoint(res)
        res["bulk"] = stage("bulk", url)
        checkpoint(res)
        pdlt = dlt_python()
        if pdlt:
            # --quick: one merge pass (the second, of unchanged data, is the peer's incremental cost)
            for mode, passes in (("append", 1), ("merge", 1 if quick else 2)):
                print(f"  {spec[:10]} dlt {mode} ...", file=sys.stderr, flush=True)
                try:
                    res[f"dlt:{mode}"] = child([pdlt, str(HERE / "peer_dlt.py"), "--sources", str(sim.sources_file),
                                                "--warehouse", url, "--mode", mode, "--passes", str(passes)], sim.env)
                    print(f"    {res[f'dlt:{mode}']['seconds']} s, {res[f'dlt:{mode}'].get('cpu_s')} s CPU",
                          file=sys.stderr, flush=True)
                except RuntimeError as exc:  # the peer failing is a figure too; the rest still runs
                    res[f"dlt:{mode}"] = {"error": str(exc)[:300] + " ... " + str(exc)[-300:]}
                    print(f"    {exc}", file=sys.stderr, flush=True)
                checkpoint(res)
        if spec != "sqlite" and not quick:
            res["scaleout"] = scale_out(db, spec, stage, tmp)
        elif spec == "sqlite" and not quick:
            res["parallel:sync"] = parallel_sync(db, sim.sources_file, sim.env)
    finally:
        db.drop()
    return res


STAGE_NAMES = ("sync", "build", "resolve", "reconcile", "report")


def pipeline_run(stage, url: str, phase: str, parallel: int) -> dict:
    """One run (full or incremental) as ``hub run`` does it: sync, build, reconcile and report in
    one process (stages.py ``run``), each step timed inside it. What the process spends around
    its steps - interpreter, imports, opening the warehouse - is ``<phase>:start``, counted in the
    run's total like any step."""
    whole = stage("run", url, "--parallel", str(parallel))
    steps = whole.pop("steps")
    out = {f"{phase}:{name}": figures for name, figures in steps.items()}
    cpu = whole.get("cpu_s")
    out[f"{phase}:start"] = {
        "seconds": round(whole["seconds"] - sum(d["seconds"] for d in steps.values()), 2),
        "cpu_s": round(cpu - sum(d["cpu_s"] for d in steps.values()), 2) if cpu is not None else None,
        "records": 0, "peak_rss_mb": whole["peak_rss_mb"], "process": whole}
    return out


def stage_runner(spec: str, sim, tmp: Path, as_of: str):
    """``stage(name, url, *extra)``: one bench/stages.py stage as a child against ``sim``."""
    py, st = sys.executable, str(HERE / "stages.py")

    def stage(name: str, url: str, *extra: str) -> dict:
        print(f"  {spec[:10]} {name} ...", file=sys.stderr, flush=True)
        figures = child([py, st, name.split(":")[0], "--warehouse", url, "--sources", str(sim.sources_file),
                         "--as-of", as_of, "--out", str(tmp / "report"), *extra], sim.env)
        print(f"    {figures['seconds']} s ({figures.get('cpu_s')} s CPU), {figures['records']} records, "
              f"{figures['peak_rss_mb']} MB", file=sys.stderr, flush=True)
        return figures

    return stage


def scale_out(db: Database, spec: str, stage, tmp: Path) -> dict:
    """The whole Dagster job on the multiprocess executor, Dagster's storage in its own PostgreSQL
    database, into an empty warehouse (compared with the in-process stages of the full run)."""
    url = db.fresh()
    storage = Database(spec, tmp)
    try:
        store_url = storage.fresh().replace("postgresql+psycopg://", "postgresql+psycopg2://")
        return stage("scaleout", url, "--dagster-storage", store_url)
    except RuntimeError as exc:
        print(f"    {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)[-600:]}
    finally:
        storage.drop()


def quick_scale_out(customers: int, spec: str, cache: Path) -> dict:
    """--quick's scale-out: on a world of ``customers`` (a tenth of the main one), in-process full
    stages (sync, build, reconcile, report) into one fresh warehouse and the whole multiprocess
    Dagster job into another - both on the same small world, so the ratio compares like with like
    while the main world's sync and build are not run a second time."""
    from serve import served

    from simulators.world import load_world

    world_path = world_for(customers, 1.0, cache)
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-so-"))
    print(f"{customers} customers (scale-out) on {spec.split(':')[0]}", file=sys.stderr, flush=True)
    db = Database(spec, tmp)
    res: dict[str, object] = {"customers": customers}
    with served(world_path, tmp) as sim:
        stage = stage_runner(spec, sim, tmp, load_world(world_path).now.isoformat())
        try:
            url = db.fresh()
            res["inprocess"] = {name: stage(name, url) for name in STAGE_NAMES if name != "resolve"}
            res["job"] = scale_out(db, spec, stage, tmp)
        finally:
            db.drop()
    return res


def parallel_sync(db: Database, sources_file: Path, env: dict) -> dict:
    """SQLite (one writer, no Dagster PostgreSQL storage): one ``sync`` process per source, all at
    once, on an empty warehouse, against the sequential sync."""
    url = db.fresh()
    from hub_core.warehouse import open_warehouse

    open_warehouse(url).dispose()  # migrate first: first opens racing on an empty database collide
    names = list(json.loads(sources_file.read_text())["sources"])
    print("  sqlite parallel sync ...", file=sys.stderr, flush=True)
    py, st = sys.executable, str(HERE / "stages.py")
    try:
        wall, done = children([[py, st, "sync", "--warehouse", url, "--sources", str(sources_file),
                                "--only", n] for n in names], env)
    except RuntimeError as exc:
        print(f"    {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)[-600:]}
    return {"seconds": round(wall, 2), "processes": len(done), "peak_rss_mb": max(d[1] for d in done),
            "per_source_s": {d[0]: round(d[2], 2) for d in done}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="the 10k-customer world, on PostgreSQL only: entity resolution timed once, one dlt merge "
                             "pass, the scale-out on a world a tenth the size (bench/README.md)")
    parser.add_argument("--warehouse", action="append",
                        help=f"'sqlite' or a PostgreSQL server URL without database (default: both, {PG_DEFAULT})")
    parser.add_argument("--sizes", help="customers per world, comma-separated (overrides --quick)")
    parser.add_argument("--repeat-orders", type=float, default=8.0, help="for worlds of 100k+ (about 1M orders)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hub-bench-worlds")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--stage-processes", action="store_true",
                        help="time each stage of a run in its own process (default: one process per run, as hub run)")
    parser.add_argument("--parallel", type=int, default=1,
                        help="sources synced at once in both runs (hub sync --parallel; default 1: one after another, "
                             "as the yardsticks read them, so the landing comparison stays per source)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)  # before the run: a missing folder must not lose its results
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [10_000] if args.quick else [10_000, 100_000]
    warehouses = args.warehouse or ([PG_DEFAULT] if args.quick else ["sqlite", PG_DEFAULT])
    from serve import served

    results: dict[str, object] = {"args": " ".join(sys.argv[1:]), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                  "cores": os.cpu_count(), "runs": []}
    for customers in sizes:
        world_path = world_for(customers, args.repeat_orders if customers >= 100_000 else 1.0, args.cache)
        for spec in warehouses:
            print(f"{customers} customers on {spec.split(':')[0]}", file=sys.stderr, flush=True)
            tmp = Path(tempfile.mkdtemp(prefix="hub-bench-"))
            # afresh per warehouse: the incremental pass edits it; 100k+ served compact (bench/serve.py)
            with served(world_path, tmp, compact=customers >= 100_000) as sim:
                run = {"customers": customers, "warehouse": spec.split(":")[0].split("+")[0], "counts": sim.counts,
                       "orders": sim.counts.get("u8.saleorderlist", 0), "quick": args.quick}

                def checkpoint(res: dict, run=run) -> None:  # what a stopped run measured, beside the finished runs
                    partial = results | {"runs": [*results["runs"], run | {"stages": res, "partial": True}]}
                    (args.out / "results.partial.json").write_text(json.dumps(partial, indent=1, ensure_ascii=False))

                res = one_warehouse(spec, sim, tmp, sim.now, args.quick, not args.stage_processes,
                                    args.parallel, checkpoint)
            if args.quick and spec != "sqlite":
                res["scaleout_small"] = quick_scale_out(max(200, customers // 10), spec, args.cache)
            results["runs"].append(run | {"stages": res})
            (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    from plots import write_all

    write_all(results, args.out)
    print(f"wrote {args.out / 'results.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
