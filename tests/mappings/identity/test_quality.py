"""Resolution quality on generated worlds: pairwise precision/recall against truth.json, and the
hard constraints (codes, cities, branches) checked on every customer the build produced."""

import json
from collections import defaultdict

import pytest
from sqlalchemy import select

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record
from hub_core.warehouse import open_warehouse
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.engine import BRANCH_TAG
from mappings.regions import places_compatible
from simulators.generator import Knobs, generate
from tests.mappings.identity.worlds import land_world, score

# difficulty -> (minimum precision, minimum recall). At ``hard`` the misses left are look-alike
# typos with no other evidence (械/戒: review, not a join). A namesake whose clerk dropped the
# city is placed by its address or landline area code (``cities.py``), so it no longer joins the
# brand's only customer elsewhere: precision 1.0 on these seeds, held at >= 0.999 here.
LEVELS = {"default": (0.995, 0.99), "hard": (0.999, 0.985)}


@pytest.fixture(scope="module", params=[(level, seed) for level in sorted(LEVELS) for seed in (3, 11)],
                ids=lambda p: f"{p[0]}-seed{p[1]}")
def built(request, tmp_path_factory):
    level, seed = request.param
    world, truth = generate(seed, 400, knobs=Knobs(difficulty=level))
    engine = open_warehouse(f"sqlite:///{tmp_path_factory.mktemp('q') / 'w.db'}")
    land_world(engine, world)
    with engine.begin() as conn:  # resolution alone: the rest of the build reads nothing it needs
        resolve_customers(conn, load_mapping(), None)
    with engine.connect() as conn:
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        records = {r.ref: r for r in conn.execute(select(customer_record))}
    return truth, xref, records, LEVELS[level]


def test_precision_and_recall_against_truth(built):
    truth, xref, _, (precision, recall) = built
    result = score(xref, truth["same_customer"])
    assert result["missing_refs"] == []
    assert result["precision"] >= precision, json.dumps(result["false_pairs"][:10], ensure_ascii=False)
    assert result["recall"] >= recall, json.dumps(result["missed_pairs"][:10], ensure_ascii=False)


def test_no_customer_breaks_a_hard_constraint(built):
    _, xref, records, _ = built
    members = defaultdict(list)
    for ref, cid in xref.items():
        members[cid].append(records[ref])
    for cid, rows in members.items():
        live = [r for r in rows if not r.is_deleted and r.name_key]
        assert len({r.uscc for r in rows if r.uscc}) <= 1, cid
        places = {r.name_place for r in live if r.name_place}
        assert all(places_compatible(p, q) for p in places for q in places), (cid, places)
        tags = {r.name_key.partition(BRANCH_TAG)[2] for r in live}
        assert len(tags) <= 1, (cid, tags)


def test_planted_identity_cases_are_kept_apart(built):
    """Worlds that list their hard cases (identity_cases): namesakes in other cities and
    branches are different customers."""
    truth, xref, _, _ = built
    group_of = {ref: n for n, g in enumerate(truth["same_customer"]) for ref in g}
    for case in truth.get("identity_cases", []):
        if case["kind"] in ("same_brand_other_city", "branch"):
            refs = [r for r in case.get("refs", []) if r in xref]
            for a in refs:
                for b in refs:
                    if group_of.get(a) != group_of.get(b):
                        assert xref[a] != xref[b], (case["kind"], a, b)


def test_incremental_after_changes_equals_matching_everything(tmp_path):
    """Change a slice of a generated world (codes dropped, names and phones rewritten, new
    records) and check the incremental build's partition against a from-scratch engine run."""
    from hub_core.schema_identity import customer_record
    from mappings.identity.config import load_identity
    from mappings.identity.engine import resolve
    from mappings.identity.records import to_rec
    from tests.mappings.identity.worlds import resolved_then_changed

    engine, stats = resolved_then_changed(tmp_path, 5, 3, changed=12, new=5)
    with engine.connect() as conn:
        rows = conn.execute(select(customer_record)).all()
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
    assert 0 < stats.rematched < stats.records
    full = resolve([to_rec(r) for r in rows], load_identity().matching)
    got = defaultdict(set)
    for ref, cid in xref.items():
        got[cid].add(ref)
    assert sorted(map(sorted, got.values())) == sorted(full.clusters)
