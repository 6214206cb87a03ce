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
