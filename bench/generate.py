"""Time and memory of the world generator at scale (not a test: run it by hand).

    uv run python bench/generate.py --customers 10000
    uv run python bench/generate.py --customers 100000 --repeat-orders 8   # about 1M orders
    /usr/bin/time -v uv run python bench/generate.py --customers 100000 --repeat-orders 8

Prints the seconds per stage, the record counts, the file sizes and the peak RSS. The world is
streamed to disk (simulators.generator.write), so memory grows with the master data and deals,
not with the documents and messages.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from simulators.generator import Knobs, dumps
from simulators.generator.jsonout import Sinks, scratch_folder, write_world
from simulators.generator.world import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--difficulty", default="default")
    parser.add_argument("--repeat-orders", type=float, default=1.0, help="scale repeat U8 business")
    parser.add_argument("--out", type=Path, help="folder to keep world.json/truth.json (default: temporary)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="gen-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    knobs = Knobs(difficulty=args.difficulty, repeat_orders=args.repeat_orders)
    figures: dict[str, object] = {"customers": args.customers, "repeat_orders": args.repeat_orders}

    t0 = time.perf_counter()
    parts = scratch_folder(out)
    built = build(args.seed, args.customers, knobs=knobs, sinks=Sinks(parts))
    figures["build_s"] = round(time.perf_counter() - t0, 1)
    counts = {f"{s}.{k}": len(v) for s, objs in built.world.items() if s != "meta" for k, v in objs.items()}
    t1 = time.perf_counter()
    write_world(out / "world.json", built.world)
    (out / "truth.json").write_text(dumps(built.truth), encoding="utf-8")
    shutil.rmtree(parts, ignore_errors=True)
    figures["write_s"] = round(time.perf_counter() - t1, 1)
    figures["total_s"] = round(time.perf_counter() - t0, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["world_mb"] = round((out / "world.json").stat().st_size / 2**20)
    figures["truth_mb"] = round((out / "truth.json").stat().st_size / 2**20, 1)
    figures["orders"] = counts["u8.saleorderlist"]
    figures["records"] = sum(counts.values())
    figures["counts"] = counts
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
