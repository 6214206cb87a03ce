"""What a re-run costs next to a full run: unchanged, and with ~1 % of the records changed.

Generates a world, serves it, and times three passes of the pipeline (sync of every source,
then the customer-360 build and reconcile): the first, full one; an unchanged re-run; a re-run
after ~1 % of customers, CRM accounts / deals and recent U8 orders changed (the kind of change a
day brings: recent documents edited, master data touched). Each re-run is reported as a share
of the full run, for the sync part and for the whole pipeline, with the U8 ``get`` calls made.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.warehouse import open_warehouse
from mappings.build import build_customer360
from quality.reconcile import reconcile
from simulators.generator import generate
from simulators.server import SimulatorServer
from simulators.world import as_world

U8_GETS = ("/api/saleorder/get", "/api/consignment/get", "/api/saleinvoice/get")


def change_one_percent(world: dict, rng: random.Random) -> dict[str, int]:
    """Edit ~1 % of customers, CRM accounts and deals (bumping their modified time, as the CRM
    does) and of U8 orders - the most recent ones, as a day's edits are."""
    counts: dict[str, int] = {}
    crm = world["crm"]
    stamp = max(r.get("last_modified_time") or 0 for r in crm["AccountObj"] + crm["NewOpportunityObj"]) + 60_000
    for name in ("AccountObj", "NewOpportunityObj"):
        rows = crm[name]
        picked = rng.sample(rows, max(1, len(rows) // 100))
        for row in picked:
            row["remark"] = "changed for the bench"
            row["last_modified_time"] = stamp
        counts[f"crm.{name}"] = len(picked)
    customers = world["u8"]["customer"]
    for row in rng.sample(customers, max(1, len(customers) // 100)):
        row["address"] = f"{row.get('address') or ''} (moved)"
    counts["u8.customer"] = max(1, len(customers) // 100)
    orders = sorted(world["u8"]["saleorderlist"], key=lambda o: o["date"])
    recent = orders[-max(1, len(orders) // 100):]
    for row in recent:
        row["cmemo"] = "changed for the bench"
    counts["u8.saleorderlist"] = len(recent)
    return counts


def run_pipeline(engine, sources, as_of, sims) -> dict:
    """Sync every source, then build and reconcile; seconds per part, records landed, API calls
    per system (machine-independent: on a real tenant each call is a network round trip)."""
    for sim in sims.values():
        sim.calls.clear()
    results, per_source = [], {}
    t = time.perf_counter()
    for source in sources:
        started = time.perf_counter()
        results.append(sync_source(engine, source))
        per_source[source.name] = round(time.perf_counter() - started, 2)
    sync_s = time.perf_counter() - t
    failed = {r.source: r.error for r in results if r.status != "succeeded"}
    assert not failed, failed
    t = time.perf_counter()
    build_customer360(engine)
    reconcile(engine, as_of=as_of)
    rest_s = time.perf_counter() - t
    return {"sync_s": round(sync_s, 2), "sync_s_per_source": per_source, "build_reconcile_s": round(rest_s, 2),
            "total_s": round(sync_s + rest_s, 2),
            "landed": {r.source: r.landed for r in results}, "seen": sum(r.seen for r in results),
            "api_calls": {name: sum(sim.calls.values()) for name, sim in sims.items()},
            "u8_get_calls": sum(sims["u8"].calls[p] for p in U8_GETS)}


def share(part: dict, full: dict) -> dict:
    shares = {k: f"{100 * part[k] / full[k]:.1f} %" for k in ("sync_s", "total_s")}
    shares["u8_sync_s"] = f"{100 * part['sync_s_per_source']['u8'] / full['sync_s_per_source']['u8']:.1f} %"
    for name, calls in full["api_calls"].items():
        shares[f"{name}_api_calls"] = f"{100 * part['api_calls'][name] / max(1, calls):.1f} %"
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warehouse", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-incr-"))
    url = args.warehouse or f"sqlite:///{tmp / 'warehouse.db'}"
    world, _ = generate(args.seed, customers=args.customers)
    engine = open_warehouse(url)
    figures: dict[str, object] = {"customers": args.customers, "warehouse": url.split(":")[0]}
    with SimulatorServer(world) as server:
        data, secrets = demo_sources(server.urls)
        os.environ.update(secrets)
        sources = parse_sources(data)
        as_of = as_world(world).now
        sims = server.sims
        full = run_pipeline(engine, sources, as_of, sims)
        unchanged = run_pipeline(engine, sources, as_of, sims)
        figures["changes"] = change_one_percent(server.world.data, random.Random(args.seed))
        changed = run_pipeline(engine, sources, as_of, sims)
    figures.update(full=full, unchanged=unchanged, changed_1pct=changed,
                   unchanged_share=share(unchanged, full), changed_share=share(changed, full))
    print(json.dumps(figures, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
