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
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import child
from serve import sources_for
from world_stream import iter_world, world_meta

SECTION_OF = {"crm": "crm", "u8": "u8", "finance": "finance", "wecom": "wecom"}


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
                         "--sources", str(sources_file), "--only", source], env)
    del data
    db.unlink(missing_ok=True)
    return {"source": source, "served_records": served_records, "world_read_s": round(read_s, 1),
            "records": figures["records"], "seconds": figures["seconds"], "cpu_s": figures["cpu_s"],
            "peak_rss_mb": figures["peak_rss_mb"]}


def table(rows: list[dict], sizes: list[int]) -> str:
    """A Markdown table: per source, each size's records, seconds and peak RSS, and the RSS ratio."""
    head = "| source | " + " | ".join(f"{s:,} customers: records / s / CPU s / peak RSS MB" for s in sizes)
    head += f" | peak RSS {sizes[-1]:,} / {sizes[0]:,} |\n|---|" + "---:|" * (len(sizes) + 1) + "\n"
    body = ""
    for source in dict.fromkeys(r["source"] for r in rows):
        by = {r["customers"]: r for r in rows if r["source"] == source}
        cells = [f"{by[s]['records']:,} / {by[s]['seconds']} / {by[s]['cpu_s']} / {by[s]['peak_rss_mb']}"
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
