"""Throughput of the hub's Singer loader alone: first landing, then an unchanged re-landing
(the time includes making the JSON lines, ~7 us a record, as a tap's output would cost).

    uv run python bench/landing.py --records 100000 [--warehouse URL]
    uv run python bench/landing.py --records 100000 --plain   # the yardstick: the same lines parsed
                                                               # and bulk-inserted with executemany

``--plain`` is the practical limit of landing: no validation, no hashing, no dedupe, no state -
the same lines, ``json.loads`` and one SQLAlchemy Core ``executemany`` per 2,000 rows. Timing the
two as whole processes side by side gives the loader's share of the limit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from connectors.landing import SingerLoader
from hub_core.warehouse import open_warehouse

SCHEMA = {"type": "SCHEMA", "stream": "NewOpportunityObj", "key_properties": ["_id"], "schema": {
    "type": "object", "properties": {
        "_id": {"type": "string"}, "name": {"type": ["string", "null"]}, "amount": {"type": ["number", "null"]},
        "close_date": {"type": ["integer", "null"]}, "owner": {"type": ["array", "null"], "items": {"type": "string"}},
    }}}


def lines(n: int):
    """Singer lines made as they are read, like a tap's stdout (nothing held in memory)."""
    yield json.dumps(SCHEMA)
    for i in range(n):
        yield (json.dumps({"type": "RECORD", "stream": "NewOpportunityObj", "record": {
            "_id": f"{i:024x}", "name": f"商机 {i} 恒通建材有限公司", "amount": 12345.67 + i,
            "close_date": 1763568000000 + i, "owner": ["1001"], "account_id": f"{i % 997:024x}",
            "sales_stage": "3", "sales_status": "1", "life_status": "normal"}}, ensure_ascii=False))
    yield json.dumps({"type": "STATE", "value": {"bookmarks": {"NewOpportunityObj": {"n": n}}}})


def plain(engine, source) -> int:
    """Parse the RECORD lines and bulk-insert them into a bare table (one executemany per batch)."""
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

    meta = MetaData()
    table = Table("bench_plain", meta, Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("stream", String(64)), Column("data", JSON))
    meta.drop_all(engine, [table])
    meta.create_all(engine, [table])
    n, batch = 0, []
    with engine.begin() as conn:
        for line in source:
            msg = json.loads(line)
            if msg["type"] == "RECORD":
                batch.append({"stream": msg["stream"], "data": msg["record"]})
                if len(batch) >= 2000:
                    conn.execute(insert(table), batch)
                    n, batch = n + len(batch), []
        if batch:
            conn.execute(insert(table), batch)
            n += len(batch)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--warehouse", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--first-only", action="store_true", help="skip the unchanged re-landing")
    parser.add_argument("--plain", action="store_true", help="the bulk-insert yardstick instead of the loader")
    args = parser.parse_args()
    url = args.warehouse or f"sqlite:///{Path(tempfile.mkdtemp()) / 'warehouse.db'}"
    engine = open_warehouse(url)
    figures = {"records": args.records, "warehouse": url.split(":")[0]}
    if args.plain:
        start = time.perf_counter()
        landed = plain(engine, lines(args.records))
        took = time.perf_counter() - start
        figures["plain"] = {"seconds": round(took, 2), "us_per_record": round(took / args.records * 1e6, 1),
                            "landed": landed}
        print(json.dumps(figures))
        return
    for run in ("first",) if args.first_only else ("first", "unchanged"):
        start = time.perf_counter()
        stats = SingerLoader(engine, "bench", 1).feed(lines(args.records))
        took = time.perf_counter() - start
        figures[run] = {"seconds": round(took, 2), "us_per_record": round(took / args.records * 1e6, 1),
                        "landed": stats.landed}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
