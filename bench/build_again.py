"""One incremental build again and again on the same warehouse state: old code against new, back
to back, CPU seconds and a digest of every table the build writes.

``bench/build.py`` lands a world and runs every step once (minutes per warehouse at 10k); to compare
two checkouts on the same incremental build this keeps PostgreSQL template databases of the
states before its two incremental builds and builds a copy of one with the chosen checkout:

    python3 -m uv run --frozen python bench/build_again.py prepare --customers 10000
    python3 -m uv run --frozen python bench/build_again.py once --state hour --repo /path/to/old/checkout
    python3 -m uv run --frozen python bench/build_again.py once --state hour --repo .
    python3 -m uv run --frozen python bench/build_again.py drop

``prepare`` lands the world (cached, as bench/build.py does), builds in full, then as of a day
later, applies ``incremental.change_one_percent`` (seed 7) and keeps the state as template
``<prefix>_first``; builds it (incremental), applies the second change (seed 8) and keeps
``<prefix>_hour``: bench/build.py's ``incremental`` and ``incremental+1h`` inputs. ``once`` builds a
copy as bench/build.py does (a child process per build, ``inside_cpu_s``: its CPU without start-up
and imports; ``--phases``: per phase) and prints the figures with a digest of every table the build
rebuilds plus the identity tables (wall-clock ``updated_at`` / ``changed_at`` and serial ids left out):
equal digests, equal results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import PG_DEFAULT, child, world_for

SKIPPED = ("build_id", "id", "updated_at", "changed_at", "created_at")  # serial ids, wall-clock stamps


def _admin(server: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _times(world: Path) -> tuple[str, str, str]:
    """The world's instant, a day later (first incremental build), an hour after that (second)."""
    from world_stream import world_meta

    as_of = datetime.fromisoformat(world_meta(world)["now"])
    return as_of.isoformat(), (as_of + timedelta(days=1)).isoformat(), (as_of + timedelta(days=1, hours=1)).isoformat()


def _build(url: str, at: str, repo: Path, phases: bool = False) -> dict:
    env = dict(os.environ)
    env.pop("HUB_BENCH_PHASES", None)
    if phases:
        env["HUB_BENCH_PHASES"] = "1"
    return child([sys.executable, str(repo / "bench" / "build.py"), "--child", "build", url, at, "inc", "-"], env=env)


def digest(url: str) -> dict[str, str]:
    """A digest per table a build writes (rebuilt tables, customers and the identity tables)."""
    from sqlalchemy import create_engine, select

    from hub_core.schema import customer, customer_review, customer_xref, metadata
    from hub_core.schema_identity import contact_xref, customer_golden_field, customer_record, customer_record_block
    from mappings.build import _REBUILT

    engine, out = create_engine(url), {}
    with engine.connect() as conn:
        for table in [metadata.tables[n] for n in _REBUILT] + [customer, customer_xref, customer_review,
                                                                customer_golden_field, contact_xref, customer_record,
                                                                customer_record_block]:
            cols = [c for c in table.c if c.name not in SKIPPED]
            rows = sorted(repr(tuple(str(v) for v in r)) for r in conn.execute(select(*cols)))
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    engine.dispose()
    return out


def prepare(args) -> None:
    from build import land
    from incremental import change_one_percent
    from world_stream import changed_world

    world = world_for(args.customers, args.repeat_orders, args.cache)
    as_of, later, _ = _times(world)
    work = f"{args.prefix}_work"
    for name in (work, f"{args.prefix}_first", f"{args.prefix}_hour"):
        _admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(args.server, f'CREATE DATABASE "{work}"')
    url = f"{args.server.rstrip('/')}/{work}"
    land(url, world, 1)
    print("full", _build(url, as_of, HERE.parent), flush=True)
    print("as_of+1d", _build(url, later, HERE.parent), flush=True)
    land(url, changed_world(world, random.Random(7), change_one_percent)[0], 2)
    _admin(args.server, f'CREATE DATABASE "{args.prefix}_first" TEMPLATE "{work}"')
    print("incremental", _build(url, later, HERE.parent), flush=True)
    land(url, changed_world(world, random.Random(8), change_one_percent)[0], 3)
    _admin(args.server, f'CREATE DATABASE "{args.prefix}_hour" TEMPLATE "{work}"')
    _admin(args.server, f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')


def once(args) -> None:
    world = world_for(args.customers, args.repeat_orders, args.cache)
    _, later, hour = _times(world)
    name = f"{args.prefix}_run_{os.getpid()}"
    _admin(args.server, f'CREATE DATABASE "{name}" TEMPLATE "{args.prefix}_{args.state}"')
    url = f"{args.server.rstrip('/')}/{name}"
    try:
        figures = _build(url, hour if args.state == "hour" else later, args.repo.resolve(), args.phases)
        figures["digest"] = digest(url)
        figures["digest_all"] = hashlib.sha256(json.dumps(figures["digest"], sort_keys=True).encode()).hexdigest()[:12]
    finally:
        _admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(figures, default=str))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("prepare", "once", "drop"))
    p.add_argument("--server", default=PG_DEFAULT, help="PostgreSQL server URL without database")
    p.add_argument("--prefix", default="build_again")
    p.add_argument("--customers", type=int, default=10_000)
    p.add_argument("--repeat-orders", type=float, default=1.0)
    p.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "hub-bench-worlds")
    p.add_argument("--state", choices=("first", "hour"), default="hour",
                   help="first: before the incremental build; hour: before the one an hour later")
    p.add_argument("--repo", type=Path, default=HERE.parent, help="the checkout whose build runs")
    p.add_argument("--phases", action="store_true", help="CPU and peak RSS per phase (bench/build.py --phases)")
    args = p.parse_args()
    if args.what == "prepare":
        prepare(args)
    elif args.what == "once":
        once(args)
    else:
        for name in (f"{args.prefix}_work", f"{args.prefix}_first", f"{args.prefix}_hour"):
            _admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
