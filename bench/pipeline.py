"""Time every stage of the hub on a generated world: sync, build, reconcile, report."""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.warehouse import open_warehouse
from mappings.build import build_customer360
from quality.reconcile import reconcile
from quality.report import write_report
from simulators.generator import generate
from simulators.server import SimulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warehouse", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    url = args.warehouse or f"sqlite:///{tmp / 'warehouse.db'}"
    figures: dict[str, object] = {"customers": args.customers, "warehouse": url.split(":")[0]}

    t = time.perf_counter()
    world, truth = generate(args.seed, customers=args.customers)
    figures["generate_s"] = round(time.perf_counter() - t, 2)
    engine = open_warehouse(url)
    with SimulatorServer(world) as server:
        data, secrets = demo_sources(server.urls)
        import os

        os.environ.update(secrets)
        for source in parse_sources(data):
            t = time.perf_counter()
            result = sync_source(engine, source)
            took = time.perf_counter() - t
            assert result.status == "succeeded", result.error
            figures[f"sync_{source.name}"] = {"records": result.seen, "seconds": round(took, 2),
                                              "records_per_s": round(result.seen / took)}
        t = time.perf_counter()
        resync = sum(sync_source(engine, s).landed for s in parse_sources(data))
        figures["resync_all_s"] = round(time.perf_counter() - t, 2)
        figures["resync_landed"] = resync
    from simulators.world import as_world

    as_of = as_world(world).now
    for name, step in (("build_s", lambda: build_customer360(engine)),
                       ("reconcile_s", lambda: reconcile(engine, as_of=as_of)),
                       ("report_s", lambda: write_report(engine, tmp / "out"))):
        t = time.perf_counter()
        step()
        figures[name] = round(time.perf_counter() - t, 2)
    found = {i["refs"][0] for i in json.loads((tmp / "out" / "discrepancies.json").read_text()) if i["rule"] == "R1"}
    expected = {i["refs"][0] for i in truth["discrepancies"] if i["rule"] == "R1"}
    figures["r1_found"], figures["r1_truth"], figures["r1_exact"] = len(found), len(expected), found == expected
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
