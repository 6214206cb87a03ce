"""Where sync time goes: one source's sync (or the bulk yardstick) against served simulators,
optionally sampled by py-spy in every process at once - the simulators, the hub's loader and
the tap.

    python bench/profile_sync.py --customers 2000 --source u8                 # wall seconds only
    python bench/profile_sync.py --customers 2000 --source u8 --py-spy OUT    # + collapsed stacks
    python bench/profile_sync.py --customers 2000 --source u8 --stage bulk    # the bare client
    python bench/profile_sync.py --summary OUT/u8-sync-sim.txt               # top frames of one
    python bench/profile_sync.py --customers 200 --source u8 --latency 0.03  # a vendor's round trip

The simulators are served the way ``bench/run.py`` serves them (``bench/serve.py``), unthrottled,
each sync into a fresh SQLite file (``--warehouse postgresql+psycopg://postgres@127.0.0.1:5432``: a fresh
PostgreSQL database per source, dropped after - the loader's insert path as ``run.py --quick``
measures it). With ``--py-spy OUT`` (py-spy on PATH, root or ptrace
rights) ``OUT/<source>-<stage>-sim.txt`` holds the simulators' stacks and
``OUT/<source>-<stage>-hub.txt`` the stage process and its tap (``--subprocesses``), each as
py-spy's collapsed ``--format raw`` lines; ``--summary`` prints the frames that take the most
samples (self and total), which is how bench/findings.md's profiles were read.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def summary(path: Path, top: int = 25) -> str:
    """The frames with the most samples in a py-spy raw file: self time and inclusive time."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [f for f in stack.split(";") if f]
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    lines = [f"{path.name}: {samples} samples", "self:"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    lines += ["total:"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


class ChildCpu(threading.Thread):
    """CPU seconds of the processes below ``pid`` (the taps), read from /proc twice a second
    (a tap's last half second before it exits is missed)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.seen, self.stop = pid, {}, threading.Event()

    def run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self.stop.wait(0.5):
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rpartition(")")[2].split()
                except OSError:
                    continue
                if int(fields[1]) == self.pid:  # ppid
                    self.seen[stat.parent.name] = (int(fields[11]) + int(fields[12])) / tick

    def seconds(self) -> float:
        self.stop.set()
        self.join()
        return round(sum(self.seen.values()), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--source", action="append", help="crm, u8, finance, wecom (default: each in turn)")
    parser.add_argument("--stage", choices=["sync", "bulk"], default="sync")
    parser.add_argument("--py-spy", type=Path, help="folder for py-spy's collapsed stacks")
    parser.add_argument("--gil", action="store_true", help="py-spy samples only the thread holding the GIL")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hub-bench-worlds")
    parser.add_argument("--set", action="append", default=[], metavar="SOURCE.KEY=JSON",
                        help="a tap config value for the run, e.g. u8.lines_concurrency=8")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds added to every simulator reply (a real vendor's round trip: 0.02-0.1)")
    parser.add_argument("--warehouse", default="sqlite",
                        help="sqlite (default) or a PostgreSQL server URL: a fresh database per source")
    parser.add_argument("--summary", type=Path, help="print the top frames of one py-spy raw file and stop")
    args = parser.parse_args()
    if args.summary:
        print(summary(args.summary))
        return
    from run import Database, world_for
    from serve import served

    world_path = world_for(args.customers, 1.0, args.cache)
    tmp = Path(tempfile.mkdtemp(prefix="hub-prof-"))
    spy = shutil.which("py-spy")
    if args.py_spy and not spy:
        raise SystemExit("py-spy is not on PATH (pip install py-spy)")
    figures = {}
    with served(world_path, tmp, latency=args.latency) as sim:
        if args.set:
            data = json.loads(sim.sources_file.read_text())
            for item in args.set:
                target, _, value = item.partition("=")
                source, _, key = target.partition(".")
                data["sources"][source]["config"][key] = json.loads(value)
            sim.sources_file.write_text(json.dumps(data))
        for name in args.source or ["crm", "u8", "finance", "wecom"]:
            db = Database(args.warehouse, tmp)
            url = db.fresh()
            cmd = [sys.executable, str(HERE / "stages.py"), args.stage, "--warehouse", url,
                   "--sources", str(sim.sources_file), "--only", name]
            spies = []
            if args.py_spy:
                args.py_spy.mkdir(parents=True, exist_ok=True)
                stem = args.py_spy / f"{name}-{args.stage}"
                gil = ["--gil"] if args.gil else []
                cmd = [spy, "record", *gil, "--subprocesses", "--format", "raw", "--rate", str(args.rate),
                       "--nonblocking", "-o", f"{stem}-hub.txt", "--", *cmd]
                spies = [subprocess.Popen([spy, "record", *gil, "--format", "raw", "--rate", str(args.rate),
                                           "--nonblocking", "-o", f"{stem}-sim.txt", "-p", str(pid)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for pid in sim.pids]
            t, before = time.perf_counter(), (resource.getrusage(resource.RUSAGE_SELF),
                                              resource.getrusage(resource.RUSAGE_CHILDREN))
            proc = subprocess.Popen(cmd, env=sim.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            taps = ChildCpu(proc.pid)
            taps.start()
            stdout, stderr = proc.communicate()
            tap_cpu = taps.seconds()
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = [round(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime, 2) for a, b in zip(after, before)]
            for p in spies:
                p.send_signal(2)  # SIGINT: py-spy writes its file and exits
                p.wait(timeout=60)
            db.drop()
            if proc.returncode:
                raise SystemExit(f"{name} {args.stage} failed: {stderr.strip()[-1500:]}")
            line = [x for x in stdout.splitlines() if x.startswith("{")][-1]
            result = json.loads(line)
            figures[name] = {"seconds": round(wall, 2), "records": result.get("records"),
                             "cpu_s": {"this process (simulators when in a thread)": cpu[0],
                                       "stage + tap processes": cpu[1], "of which tap": tap_cpu} | sim.cpu(),
                             "records_per_s": round((result.get("records") or 0) / wall)}
            print(json.dumps({name: figures[name]}), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"customers": args.customers, "stage": args.stage,
                      "per_source": figures, "pid": os.getpid()}))


if __name__ == "__main__":
    main()
