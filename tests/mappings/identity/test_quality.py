"""Resolution quality on generated worlds: pairwise precision/recall against truth.json, and the
hard constraints (codes, cities, branches) checked on every customer the build produced."""

import json
from collections import defaultdict

import pytest
from sqlalchemy import select

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record
from hub_core.warehouse import open_warehouse
from mappings.build import build_customer360
from mappings.identity.engine import BRANCH_TAG
from mappings.regions import places_compatible
from simulators.generator import generate
from tests.mappings.identity.worlds import land_world, score


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    world, truth = generate(11, 400)
    engine = open_warehouse(f"sqlite:///{tmp_path_factory.mktemp('q') / 'w.db'}")
    land_world(engine, world)
    build_customer360(engine)
    with engine.connect() as conn:
        xref = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        records = {r.ref: r for r in conn.execute(select(customer_record))}
    return truth, xref, records


def test_precision_and_recall_against_truth(built):
    truth, xref, _ = built
    result = score(xref, truth["same_customer"])
    assert result["missing_refs"] == []
    assert result["precision"] >= 0.995, json.dumps(result["false_pairs"][:10], ensure_ascii=False)
    assert result["recall"] >= 0.99, json.dumps(result["missed_pairs"][:10], ensure_ascii=False)


def test_no_customer_breaks_a_hard_constraint(built):
    _, xref, records = built
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
    truth, xref, _ = built
    group_of = {ref: n for n, g in enumerate(truth["same_customer"]) for ref in g}
    for case in truth.get("identity_cases", []):
        if case["kind"] in ("same_brand_other_city", "branch"):
            refs = [r for r in case.get("refs", []) if r in xref]
            for a in refs:
                for b in refs:
                    if group_of.get(a) != group_of.get(b):
                        assert xref[a] != xref[b], (case["kind"], a, b)
