"""The peer: a dlt pipeline loading the same simulator records into the same database.

Runs in its own virtual environment (dlt's pins are not in our lock; ``bench/run.py`` makes it
with ``uv venv`` + ``uv pip install "dlt[sqlalchemy,postgres]"``). The records come from the same
bare client as the bulk-insert yardstick (``bench/plain_fetch.py``); dlt infers the schema,
normalizes nested lines into child tables and loads them, ``append`` or ``merge`` on the record key
(a second merge pass of unchanged data is what an incremental peer run costs). On SQLite dlt loads
with one worker (its parallel load jobs lock each other out of the file).

    <dlt venv>/bin/python bench/peer_dlt.py --sources FILE --warehouse URL --mode merge [--passes 2]

Prints one JSON line: records, seconds per pass and per dlt phase (extract, normalize, load).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plain_fetch


def destination(url: str):
    """dlt's destination for one of our warehouse URLs (SQLite via SQLAlchemy, PostgreSQL native)."""
    import dlt

    if url.startswith("sqlite"):
        return dlt.destinations.sqlalchemy(credentials=url)
    # dlt insists on a password; the bench server trusts local connections and ignores it
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    if "@" in dsn and ":" not in dsn.split("//", 1)[1].split("@", 1)[0]:
        dsn = dsn.replace("@", ":unused@", 1)
    return dlt.destinations.postgres(credentials=dsn)


def make_source(sources: dict, mode: str):
    """One dlt resource per hub source; each record goes to the table of its stream."""
    import dlt

    def records(name: str):
        for _source, stream, key, record in plain_fetch.fetch_all(sources, only=name):
            yield dlt.mark.with_table_name({**record, "bench_key": key}, f"{name}_{stream}".lower())

    return [dlt.resource(records(name), name=name, write_disposition=mode, primary_key="bench_key")
            for name in plain_fetch.FETCHERS if name in sources]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--mode", choices=("append", "merge"), default="merge")
    parser.add_argument("--passes", type=int, default=1)
    args = parser.parse_args()
    import dlt

    sources = json.loads(Path(args.sources).read_text())["sources"]
    work = tempfile.mkdtemp(prefix="peer-dlt-")
    pipeline = dlt.pipeline(pipeline_name=f"peer_{args.mode}", pipelines_dir=work,
                            destination=destination(args.warehouse), dataset_name=f"peer_{args.mode}",
                            progress=None)
    figures: dict[str, object] = {"mode": args.mode, "dlt": dlt.__version__, "passes": []}
    for _ in range(args.passes):
        t0 = time.perf_counter()
        pipeline.extract(make_source(sources, args.mode))
        t1 = time.perf_counter()
        info = pipeline.normalize()
        t2 = time.perf_counter()
        # SQLite takes one writer at a time: dlt's 20 parallel load jobs (one connection each)
        # then fail with "database is locked" on the merge's DELETEs, so load SQLite serially.
        pipeline.load(workers=1 if args.warehouse.startswith("sqlite") else 20)
        t3 = time.perf_counter()
        rows = sum(v for k, v in info.row_counts.items() if not k.startswith("_dlt"))
        top = sum(v for k, v in info.row_counts.items() if not k.startswith("_dlt") and "__" not in k)
        figures["passes"].append({"records": top, "rows_written": rows, "seconds": round(t3 - t0, 2),
                                  "extract_s": round(t1 - t0, 2), "normalize_s": round(t2 - t1, 2),
                                  "load_s": round(t3 - t2, 2)})
    figures["records"] = figures["passes"][0]["records"]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
