"""The incremental sync alone, two checkouts back to back on the same input (PostgreSQL).

    python bench/inc_sync.py --world /work/worlds/w10000-r1/world.json \\
        --repo OLD_CHECKOUT --repo NEW_CHECKOUT [--pairs 2] [--py-spy DIR]

Serves the world (bench/serve.py), lands a full sync of every source into a fresh PostgreSQL
database per checkout (with that checkout's code: its state is what its incremental run reads),
applies ``incremental.change_one_percent`` (seed 7, as bench/run.py does) and keeps those
databases as templates. Then, ``--pairs`` times, each checkout
in turn runs ``bench/stages.py sync`` (its own code, its own venv) on a fresh copy of the
template: wall and CPU seconds (stage + taps, /usr/bin/time), records read and landed per
source, and a digest of what landed - every ``raw_record`` row's (source, stream, key, content
hash, current, deleted) - plus the stored sync states' sizes. Equal digests, equal landings.
``--one-template``: every checkout starts from the first one's full sync (valid when they store
the same state). ``--only SOURCE``: that source alone (its tap exec'd, not forked warm). With
``--py-spy DIR`` one more run per checkout under ``py-spy record --gil`` (collapsed stacks of the
stage in DIR; with ``--only`` also its tap, ``--subprocesses``; ``profile_sync.py --summary`` ranks
them). Sampled taps garbled their stdout here (records before their SCHEMA, "not a Singer
message" - the digest shows it), so a profiled run's landing is not a result. Each child runs in
its checkout's directory (``python -m connectors.warm_taps`` imports from the working directory).
Databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def admin(sql: str) -> None:
    """One statement on the server's maintenance database (CREATE / DROP DATABASE)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def digest(url: str) -> dict:
    """Rows and a digest of raw_record (what landed) and the stored states' total size."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    h = hashlib.blake2b(digest_size=8)
    rows = 0
    with engine.connect() as conn:
        result = conn.execute(text(
            "SELECT source, stream, record_key, record_hash, is_current, deleted_at IS NOT NULL FROM raw_record "
            "ORDER BY 1, 2, 3, 4, 5, 6"))
        for row in result:
            h.update(repr(tuple(row)).encode())
            rows += 1
        state = conn.execute(text("SELECT coalesce(sum(length(state::text)), 0) FROM sync_state")).scalar()
    engine.dispose()
    return {"raw_rows": rows, "raw_digest": h.hexdigest(), "state_bytes": int(state or 0)}


class TreeCpu(threading.Thread):
    """CPU seconds of every process below the stage, sampled from /proc every 50 ms: the stage
    itself (depth 1), the warm-tap launcher and each tap in the order they started (a tap's last
    <= 50 ms are missed, so the taps' figures are slightly low; /usr/bin/time's total is exact)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.cpu: dict[int, float] = {}
        self.depth: dict[int, int] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    @classmethod
    def watch(cls, root: int) -> TreeCpu:
        tree = cls(root)
        tree.start()
        return tree

    def run(self) -> None:
        while not self.done.wait(0.05):
            stats = {}
            for path in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = path.read_text().rpartition(")")[2].split()
                except OSError:
                    continue
                stats[int(path.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / self.tick)
            frontier = [self.root]
            while frontier:
                parent = frontier.pop()
                for pid, (ppid, cpu) in stats.items():
                    if ppid == parent:
                        self.depth.setdefault(pid, self.depth.get(parent, 0) + 1)
                        self.cpu[pid] = cpu
                        frontier.append(pid)

    def finish(self) -> dict:
        self.done.set()
        self.join()
        stage = sum(c for pid, c in self.cpu.items() if self.depth[pid] == 1)
        below = sorted(pid for pid in self.cpu if self.depth[pid] > 1)
        return {"cpu_stage_s": round(stage, 2),
                "cpu_below_s": [[self.depth[pid], round(self.cpu[pid], 2)] for pid in below]}


def run_sync(repo: Path, url: str, sim, spy: Path | None = None, only: str | None = None) -> dict:
    """``stages.py sync`` of ``repo`` against ``sim`` into ``url``: its figures (run.child)."""
    from run import child

    py = str(repo / ".venv" / "bin" / "python")
    args = [py, str(repo / "bench" / "stages.py"), "sync", "--warehouse", url, "--sources", str(sim.sources_file)]
    args += ["--only", only] if only else []
    env = dict(sim.env) | {"PYTHONPATH": str(repo)}
    os.chdir(repo)  # the warm-tap launcher (python -m) imports from the working directory
    if not spy:
        return child(args, env, watch=TreeCpu.watch)
    # py-spy writes its own lines after the stage's: the figures are the last JSON line
    # --subprocesses only for one source (its tap exec'd, not forked from the warm launcher:
    # sampling forked warm taps garbled their stdout here - records before their SCHEMA)
    sub = ["--subprocesses"] if only else []
    args = [str(Path.home() / ".local" / "bin" / "py-spy"), "record", *sub, "--format", "raw",
            "--rate", "250", "--gil", "-o", str(spy), "--", *args]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    spy.with_suffix(".err").write_text(done.stderr)
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    figures = json.loads(lines[-1]) if lines else {"records": None, "landed": None, "per_source": None}
    return figures | {"seconds": None, "cpu_s": None, "peak_rss_mb": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", required=True)
    parser.add_argument("--repo", action="append", required=True, help="checkout with its .venv (repeat)")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--py-spy", type=Path)
    parser.add_argument("--only", help="incremental runs of this one source only (its tap exec'd, not warm)")
    parser.add_argument("--one-template", action="store_true",
                        help="every checkout starts from the first one's full sync (when they store the same state)")
    parser.add_argument("--keep-copies", action="store_true", help="keep each run's database (named in the output)")
    parser.add_argument("--keep-template", help="template name prefix: reuse (and keep) the templates if they exist")
    args = parser.parse_args()
    from incremental import change_one_percent
    from serve import served

    tmp = Path(tempfile.mkdtemp(prefix="inc-sync-"))
    prefix = args.keep_template or f"incsync_t_{uuid.uuid4().hex[:6]}"
    repos = [Path(r).resolve() for r in args.repo]
    templates = {repo: f"{prefix}_{0 if args.one_template else i}" for i, repo in enumerate(repos)}
    copies: list[str] = []
    out: dict = {"runs": [], "full": {}}
    try:
        with served(Path(args.world), tmp) as sim:
            from sqlalchemy import create_engine, text

            for repo, template in (list(templates.items())[:1] if args.one_template else templates.items()):
                with create_engine(f"{PG}/postgres").connect() as conn:
                    exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}).scalar()
                if exists:
                    continue
                admin(f'CREATE DATABASE "{template}"')
                full = run_sync(repo, f"{PG}/{template}", sim)
                out["full"][str(repo)] = {k: full.get(k) for k in ("seconds", "cpu_s", "records", "landed")}
                out["full"][str(repo)] |= digest(f"{PG}/{template}")
                print("full", repo, out["full"][str(repo)], file=sys.stderr, flush=True)
            out["changes"] = sim.change(lambda data: change_one_percent(data, random.Random(7)))
            plan = [(i, repo) for i in range(args.pairs) for repo in repos]
            if args.py_spy:
                args.py_spy.mkdir(parents=True, exist_ok=True)
                plan += [(-1, repo) for repo in repos]
            for i, repo in plan:
                name = f"incsync_c_{uuid.uuid4().hex[:6]}"
                admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates[repo]}"')
                copies.append(name)
                spy = args.py_spy / f"{repo.name}.txt" if i < 0 else None
                fig = run_sync(repo, f"{PG}/{name}", sim, spy, args.only)
                row = {"repo": str(repo), "pass": i, "seconds": fig["seconds"], "cpu_s": fig["cpu_s"],
                       "records": fig["records"], "landed": fig["landed"],
                       "per_source": fig["per_source"], "peak_rss_mb": fig["peak_rss_mb"],
                       "cpu_stage_s": fig.get("cpu_stage_s"), "cpu_below_s": fig.get("cpu_below_s")}
                row |= digest(f"{PG}/{name}") | {"database": name}
                out["runs"].append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                if not args.keep_copies:
                    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                copies.remove(name)
    finally:
        for name in copies + ([] if args.keep_template else list(templates.values())):
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
