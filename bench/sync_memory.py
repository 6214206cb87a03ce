"""Does a sync stream? One source's full sync at two world sizes, its peak RSS side by side.

    python bench/sync_memory.py --world 10000=/tmp/w10k/world.json --world 100000=/tmp/w100k/world.json \
        --sources crm wecom finance u8 --out bench/sync_memory.json

The whole 3 GB world as Python objects would need several times its size in RAM (``bench/run.py``
now serves 100k worlds compact instead: ``bench/serve.py``). One source's part of it fits as plain
objects, so this bench reads the world file one record at a time (``world_stream``), keeps only the
source's own section, serves it unthrottled (the same simulators and sources file as ``run.py``)
and runs the hub's ``sync`` of that source alone (``stages.py sync --only``) into a fresh SQLite
warehouse, under ``/usr/bin/time``: wall and CPU seconds and the peak RSS of the stage or its
largest tap process - never the simulators' (they live in this process). The issue's target is
that peak RSS grows by at most 1.5x from 10k to 100k customers.

``/usr/bin/time`` gives one figure for the stage and its taps together (the largest of them), so a
sampler also reads ``VmHWM`` (the kernel's peak RSS) of the stage process and of every process
below it (the warm tap launcher, its minders, the tap) from ``/proc`` every ``SAMPLE_S``:
``stage_peak_mb`` and ``tap_peak_mb`` (the largest process below the stage). A tap's last
fraction of a second may escape the sampler; the combined figure does not. ``state_kb``: the
size of the source's stored Singer state after the sync.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import child
from serve import sources_for
from world_stream import iter_world, world_meta

SECTION_OF = {"crm": "crm", "u8": "u8", "finance": "finance", "wecom": "wecom"}
SAMPLE_S = 0.2  # seconds between two reads of the process tree's peaks


def _parents() -> dict[int, int]:
    """Every process's parent pid, from ``/proc``."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _hwm_kb(pid: int) -> int:
    """The kernel's peak RSS of ``pid`` (``VmHWM``, kB); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreePeaks(threading.Thread):
    """Samples the peak RSS of a process's descendants: the stage (the process ``/usr/bin/time``
    runs) and the largest process below it (the tap)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.depth: dict[int, int] = {}
        self.peak: dict[int, int] = {}

    @classmethod
    def watch(cls, root: int) -> TreePeaks:
        """Start sampling ``root``'s tree (``run.child``'s ``watch``)."""
        peaks = cls(root)
        peaks.start()
        return peaks

    def finish(self) -> dict:
        """Stop sampling; :meth:`figures`."""
        self.done.set()
        self.join()
        return self.figures()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_S):
            parents = _parents()
            below, frontier = {}, [self.root]
            while frontier:
                parent = frontier.pop()
                for pid, ppid in parents.items():
                    if ppid == parent and pid not in below:
                        below[pid] = below.get(parent, 0) + 1
                        frontier.append(pid)
            for pid, depth in below.items():
                self.depth.setdefault(pid, depth)
                self.peak[pid] = max(self.peak.get(pid, 0), _hwm_kb(pid))

    def figures(self) -> dict:
        """``stage_peak_mb`` (depth 1: the child of ``/usr/bin/time``) and ``tap_peak_mb``."""
        stage = max((kb for pid, kb in self.peak.items() if self.depth[pid] == 1), default=0)
        taps = max((kb for pid, kb in self.peak.items() if self.depth[pid] > 1), default=0)
        return {"stage_peak_mb": round(stage / 1024), "tap_peak_mb": round(taps / 1024)}


def state_kb(db: Path, source: str) -> float | None:
    """The size of ``source``'s stored Singer state (kB of JSON) in a SQLite warehouse."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT length(state) FROM sync_state WHERE source = ?", (source,)).fetchone()
    return round(row[0] / 1024, 1) if row and row[0] is not None else None


def section(world_path: Path, system: str) -> dict:
    """The world's ``meta`` and one system's streams, read one record at a time."""
    streams: dict[str, list] = {}
    for sys_name, stream, record in iter_world(world_path):
        if sys_name == system:
            streams.setdefault(stream, []).append(record)
    return {"meta": world_meta(world_path), system: streams}


def sync_one(world_path: Path, source: str, tmp: Path) -> dict:
    """Serve ``source``'s part of the world and time the hub's sync of it alone."""
    from simulators.server import SimulatorServer
    from simulators.world import World

    t = time.perf_counter()
    data = section(world_path, SECTION_OF[source])
    served_records = sum(len(records) for records in data[SECTION_OF[source]].values())
    read_s = time.perf_counter() - t
    db = tmp / f"{source}.db"
    db.unlink(missing_ok=True)
    with SimulatorServer(World(data, source=str(world_path))) as server:
        sources_file, env = sources_for(server.urls, tmp)
        figures = child([sys.executable, str(HERE / "stages.py"), "sync", "--warehouse", f"sqlite:///{db}",
                         "--sources", str(sources_file), "--only", source], env, watch=TreePeaks.watch)
    del data
    state = state_kb(db, source)
    db.unlink(missing_ok=True)
    return {"source": source, "served_records": served_records, "world_read_s": round(read_s, 1),
            "records": figures["records"], "seconds": figures["seconds"], "cpu_s": figures["cpu_s"],
            "peak_rss_mb": figures["peak_rss_mb"], "stage_peak_mb": figures["stage_peak_mb"],
            "tap_peak_mb": figures["tap_peak_mb"], "state_kb": state}


def table(rows: list[dict], sizes: list[int]) -> str:
    """A Markdown table: per source, each size's records, seconds and peak RSS, and the RSS ratio."""
    head = "| source | " + " | ".join(f"{s:,} customers: records / s / CPU s / peak RSS MB (stage, tap) / "
                                     "state kB" for s in sizes)
    head += f" | peak RSS {sizes[-1]:,} / {sizes[0]:,} |\n|---|" + "---:|" * (len(sizes) + 1) + "\n"
    body = ""
    for source in dict.fromkeys(r["source"] for r in rows):
        by = {r["customers"]: r for r in rows if r["source"] == source}
        cells = [f"{by[s]['records']:,} / {by[s]['seconds']} / {by[s]['cpu_s']} / {by[s]['peak_rss_mb']} "
                 f"({by[s]['stage_peak_mb']}, {by[s]['tap_peak_mb']}) / {by[s]['state_kb']}"
                 if s in by else "-" for s in sizes]
        first, last = by.get(sizes[0]), by.get(sizes[-1])
        ratio = f"{last['peak_rss_mb'] / first['peak_rss_mb']:.2f}" if first and last else "-"
        body += f"| {source} | " + " | ".join(cells) + f" | {ratio} |\n"
    return head + body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--world", action="append", required=True, metavar="CUSTOMERS=PATH",
                   help="a world file and its number of customers (give two: the small and the large)")
    p.add_argument("--sources", nargs="+", default=["crm", "wecom", "finance", "u8"], choices=sorted(SECTION_OF))
    p.add_argument("--out", type=Path, help="append one JSON line per sync to this file")
    args = p.parse_args()
    worlds = sorted((int(c), Path(w)) for c, w in (spec.split("=", 1) for spec in args.world))
    rows = []
    with tempfile.TemporaryDirectory(prefix="hub-sync-memory-") as tmp:
        for source in args.sources:
            for customers, path in worlds:
                print(f"{source} at {customers:,} customers ...", file=sys.stderr, flush=True)
                row = {"customers": customers} | sync_one(path, source, Path(tmp))
                print(f"  {json.dumps(row)}", file=sys.stderr, flush=True)
                rows.append(row)
                if args.out:
                    with args.out.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(row) + "\n")
    print(table(rows, [c for c, _ in worlds]))


if __name__ == "__main__":
    main()
