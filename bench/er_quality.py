"""Entity-resolution quality on generated worlds: pairwise precision/recall against truth.json.

    python bench/er_quality.py --difficulty hard --customers 400 --seeds 1 2 3 11
    python bench/er_quality.py --difficulty hard --seeds 1 --show     # list the wrong pairs

Each world's master records are landed into a fresh SQLite warehouse (the connectors' loader)
and resolved once (``resolve_customers``); the crosswalk is scored against ``same_customer``.
``--show`` prints every false and missed pair with the planted identity case it belongs to.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(seed: int, customers: int, difficulty: str, show: bool = False) -> dict:
    from sqlalchemy import select

    from hub_core.schema import customer_xref
    from hub_core.schema_identity import customer_record
    from hub_core.warehouse import open_warehouse
    from mappings.config import load_mapping
    from mappings.identity import resolve_customers
    from simulators.generator import Knobs, generate
    from tests.mappings.identity.worlds import land_world, score

    start = time.perf_counter()
    world, truth = generate(seed, customers, knobs=Knobs(difficulty=difficulty))
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_warehouse(f"sqlite:///{Path(tmp) / 'w.db'}")
        land_world(engine, world)
        with engine.begin() as conn:
            resolve_customers(conn, load_mapping(), None)
        with engine.connect() as conn:
            xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
            records = {r.ref: r for r in conn.execute(select(customer_record))}
        engine.dispose()
    result = score(xref, truth["same_customer"])
    print(f"{difficulty} customers={customers} seed={seed}: precision {result['precision']:.4f} "
          f"recall {result['recall']:.4f} (true pairs {result['true_pairs']}, found {result['found_pairs']}, "
          f"false {len(result['false_pairs'])}, missed {len(result['missed_pairs'])}) "
          f"{time.perf_counter() - start:.1f} s")
    if show:
        kinds: dict[str, list[str]] = {}
        for case in truth.get("identity_cases", []):
            for ref in case["refs"]:
                kinds.setdefault(ref, []).append(f"{case['kind']} {case.get('note', '')}".strip())
        for label in ("false_pairs", "missed_pairs"):
            for pair in result[label]:
                print(f"  {label[:-6]}:")
                for ref in pair:
                    r = records[ref]
                    print(f"    {ref} {r.name} place={r.name_place} code={r.uscc or r.uscc_raw or '-'} "
                          f"phones={r.phones} -> {xref[ref]} {kinds.get(ref, '')}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--difficulty", default="default", help="generator identity cases: default | hard")
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 11])
    parser.add_argument("--show", action="store_true", help="print the false and missed pairs")
    args = parser.parse_args()
    for seed in args.seeds:
        measure(seed, args.customers, args.difficulty, args.show)


if __name__ == "__main__":
    main()
