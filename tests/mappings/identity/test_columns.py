"""A full resolution's records as columns (columns.Columns) are the records :func:`to_rec` makes:
the same fields (pooled values one object), read back one at a time, a column at a time or as
field tuples, in ref or engine order; and the engine matches them exactly as it matches the Rec
objects (clusters, roots, joins, review) on a hard generated world, with and without frozen
records and with too-common blocks forced by a small ``max_block``."""

import pytest
from sqlalchemy import select

from hub_core.schema_identity import customer_record
from hub_core.warehouse import open_warehouse
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.columns import FIELDS, Columns
from mappings.identity.config import load_identity
from mappings.identity.engine import resolve
from mappings.identity.records import rec_fields, to_rec
from simulators.generator import Knobs, generate
from tests.mappings.identity.worlds import land_world


@pytest.fixture(scope="module")
def staged_rows(tmp_path_factory):
    """The staged customer rows of a resolved hard generated world, in a shuffled order, some
    marked deleted."""
    world, _ = generate(5, 400, knobs=Knobs(difficulty="hard"))
    engine = open_warehouse(f"sqlite:///{tmp_path_factory.mktemp('c') / 'w.db'}")
    land_world(engine, world)
    with engine.begin() as conn:
        resolve_customers(conn, load_mapping(), None)
        rows = [dict(r._mapping) for r in conn.execute(select(customer_record))]
    rows.sort(key=lambda r: r["content_hash"])  # neither ref nor engine order
    for row in rows[::23]:  # (deleted records sort after live ones and never attract)
        row["is_deleted"] = True
    return rows


def _columns(rows) -> Columns:
    cols = Columns()
    for row in rows:
        cols.add(*rec_fields(row))
    return cols.freeze()


def test_columns_hold_the_records_to_rec_makes(staged_rows):
    recs = [to_rec(r) for r in staged_rows]
    assert any(r.deleted for r in recs) and any(r.aliases for r in recs) and any(r.cities for r in recs)
    cols = _columns(staged_rows)
    assert len(cols) == len(recs)
    assert list(cols) == recs
    for name in FIELDS:
        assert cols.column(name) == [getattr(r, name) for r in recs]
    assert cols.column("ref") == [r.ref for r in recs]
    assert list(cols.fields("ref", "deleted", "phones")) == [(r.ref, r.deleted, r.phones) for r in recs]
    # a company's repeated values are one object
    keys = [k for k in cols.column("key") if k is not None]
    assert len({id(k) for k in keys}) == len(set(keys)) < len(keys)
    assert list(cols.by_ref()) == sorted(recs, key=lambda r: r.ref)
    assert list(cols.engine_order()) == sorted(recs, key=lambda r: (r.deleted, r.ref))


@pytest.mark.parametrize("max_block", [None, 2])
def test_the_engine_matches_columns_as_it_matches_records(staged_rows, max_block):
    matching = load_identity().matching
    if max_block:
        matching = matching.model_copy(update={"max_block": max_block})
    recs = [to_rec(r) for r in staged_rows]
    frozen = frozenset(r.ref for r in recs[::37])
    for pinned in (frozenset(), frozen):
        a, b = resolve(recs, matching, pinned), resolve(_columns(staged_rows), matching, pinned)
        assert len(a.clusters) < len(recs) and a.review
        assert a.clusters == b.clusters
        assert a.roots == b.roots
        assert a.joins == b.joins
        assert a.review == b.review
        assert a.cluster_of_index == b.cluster_of_index
