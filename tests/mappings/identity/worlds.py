"""Land a world file's master records into a warehouse (the real loader path) and score the
resulting crosswalk against the world's truth (pairwise precision and recall)."""

from __future__ import annotations

import itertools
from collections import defaultdict

import orjson

from connectors.landing import SingerLoader

KEYS = {("crm", None): ["_id"], ("u8", None): ["code"], ("finance", "credit_rating"): ["customer_code"],
        ("wecom", "follow_users"): ["userid"]}
STREAMS = {"crm": ("PersonnelObj", "AccountObj", "ContactObj"), "u8": ("person", "customer"),
           "finance": ("credit_rating",), "wecom": ("follow_users", "external_contacts")}


def land_world(engine, world: dict, streams=STREAMS, run_id: int = 1) -> None:
    """Land the master-data streams of ``world`` as the taps would."""
    for source, names in streams.items():
        loader = SingerLoader(engine, source, run_id)
        lines = []
        for stream in names:
            key = KEYS.get((source, stream), KEYS.get((source, None), []))
            lines.append(orjson.dumps({"type": "SCHEMA", "stream": stream, "schema": {"type": "object"},
                                       "key_properties": key}))
            lines += [orjson.dumps({"type": "RECORD", "stream": stream, "record": r})
                      for r in world.get(source, {}).get(stream, [])]
        loader.feed(lines)


def pairs(groups) -> set[tuple[str, str]]:
    out = set()
    for g in groups:
        out.update(itertools.combinations(sorted(g), 2))
    return out


def score(xref: dict[str, str], truth_groups: list[list[str]]) -> dict:
    """Pairwise precision/recall of ``xref`` (ref -> customer id) over the truth's refs."""
    refs = {r for g in truth_groups for r in g}
    found = defaultdict(list)
    for ref, cid in xref.items():
        if ref in refs:
            found[cid].append(ref)
    got, want = pairs(found.values()), pairs(truth_groups)
    tp = len(got & want)
    return {"precision": tp / len(got) if got else 1.0, "recall": tp / len(want) if want else 1.0,
            "true_pairs": len(want), "found_pairs": len(got), "false_pairs": sorted(got - want),
            "missed_pairs": sorted(want - got), "missing_refs": sorted(refs - xref.keys())}


def resolved_then_changed(path, world_seed: int, change_seed: int, changed: int, new: int):
    """A generated world (150 companies) landed into a SQLite file under ``path`` and resolved;
    then ``changed`` CRM accounts lose their code and take a U8 customer's phone, ``changed`` U8
    customers take a CRM account's name and lose their tax number, ``new`` U8 customers appear,
    and it is resolved again incrementally. Returns (engine, the second resolution's stats): the
    incremental cases that cross blocks (codes gone, names and phones shared)."""
    import random

    from hub_core.warehouse import open_warehouse
    from mappings.config import load_mapping
    from mappings.identity import resolve_customers
    from simulators.generator import generate

    world, _ = generate(world_seed, 150)
    engine = open_warehouse(f"sqlite:///{path / 'w.db'}")
    land_world(engine, world)
    with engine.begin() as conn:
        resolve_customers(conn, load_mapping(), None)
    rng = random.Random(change_seed)
    accounts, customers = world["crm"]["AccountObj"], world["u8"]["customer"]
    for a in rng.sample(accounts, changed):
        a.pop("uscc__c", None)
        a["tel"] = rng.choice(customers)["mobile"] or "13800000000"
    for c in rng.sample(customers, changed):
        c["name"] = rng.choice(accounts)["name"]
        c["taxno"] = ""
    added = [{"code": f"N{i}", "name": rng.choice(accounts)["name"], "phone": rng.choice(customers)["mobile"]}
             for i in range(new)]
    land_world(engine, {"crm": {"AccountObj": accounts}, "u8": {"customer": customers + added}},
               streams={"crm": ("AccountObj",), "u8": ("customer",)}, run_id=2)
    with engine.begin() as conn:
        stats = resolve_customers(conn, load_mapping(), None)
    return engine, stats
