"""Resolution by partition (partition.py) gives exactly the result of one engine run over every
record: the same clusters in the same order, the same joins, review queue and roots, for
customers and contacts, with batches small enough to force many partitions, with one batch
holding everything (a giant component is matched whole), with too-common blocks forced by a
small ``max_block``, and with overridden (frozen) records. And a full resolution that streams its
staged rows and writes a chunk at a time leaves the tables as the in-memory path does."""

import pytest
from sqlalchemy import select

from hub_core.schema_identity import customer_record
from hub_core.warehouse import open_warehouse
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.config import load_identity
from mappings.identity.contacts import stage_contacts
from mappings.identity.engine import resolve
from mappings.identity.partition import batches, components, resolve_partitioned, too_common
from mappings.identity.records import to_rec
from mappings.normalize import NameKey
from simulators.generator import Knobs, generate
from tests.mappings.identity.worlds import land_world


@pytest.fixture(scope="module")
def world_recs(tmp_path_factory):
    """The customer and contact engine records of a resolved hard generated world."""
    world, _ = generate(3, 400, knobs=Knobs(difficulty="hard"))
    engine = open_warehouse(f"sqlite:///{tmp_path_factory.mktemp('p') / 'w.db'}")
    land_world(engine, world)
    cfg = load_mapping()
    with engine.begin() as conn:
        resolve_customers(conn, cfg, None)
        customers = [to_rec(r) for r in conn.execute(select(customer_record))]
        cols = stage_contacts(conn, load_identity(), cfg.source_for)
    return customers, list(cols), cols


def _same(a, b) -> None:
    assert a.clusters == b.clusters
    assert a.roots == b.roots
    assert a.joins == b.joins
    assert a.review == b.review
    assert a.cluster_of_index == b.cluster_of_index


@pytest.mark.parametrize("size", [1, 40, 10**9])
@pytest.mark.parametrize("max_block", [30, 3])
def test_partitioned_customers_match_one_run(world_recs, size, max_block):
    recs, *_ = world_recs
    cfg = load_identity().matching.model_copy(update={"max_block": max_block})
    frozen = frozenset(r.ref for r in recs[::97])
    whole = resolve(list(recs), cfg, frozen)
    assert len(whole.clusters) > 100 and whole.review  # a world with something to decide
    _same(resolve_partitioned(list(recs), cfg, frozen, size=size), whole)


@pytest.mark.parametrize("size", [1, 100])
def test_partitioned_contacts_match_one_run(world_recs, size):
    _, recs, _ = world_recs
    cfg = load_identity().matching.model_copy(update={"typo_blocks": False})
    _same(resolve_partitioned(list(recs), cfg, size=size), resolve(list(recs), cfg))


def test_partitioned_contacts_without_indexes_match_one_run(world_recs):
    """``indexes=False`` (contacts): the same clusters, roots, joins and review, no index list."""
    _, recs, _ = world_recs
    cfg = load_identity().matching.model_copy(update={"typo_blocks": False})
    lean, whole = resolve_partitioned(list(recs), cfg, size=100, indexes=False), resolve(list(recs), cfg)
    assert lean.cluster_of_index == []
    assert (lean.clusters, lean.roots, lean.joins, lean.review) == (whole.clusters, whole.roots, whole.joins,
                                                                    whole.review)


def test_contact_columns_give_each_record_as_staged(world_recs):
    """Staged contacts as columns: in ref order, found by ref, each row's values those of its
    engine record (name key ``person@company``, first number the link, the customer the scope),
    equal values one object."""
    _, recs, cols = world_recs
    assert len(cols) > 100 and cols.refs == sorted(cols.refs)
    assert cols.index("nobody:none:0") == -1
    rows = list(cols.rows())
    for i, (row, rec) in enumerate(zip(rows, recs, strict=True)):
        assert cols.index(row.ref) == i and rec.ref == row.ref
        assert rec.key == (NameKey(f"{row.name}@{row.company}", None) if row.name else None)
        assert (rec.link_code, rec.phones) == ((row.phones[0], row.phones[1:]) if row.phones else (None, ()))
        assert rec.scope == row.customer_id and not rec.deleted and rec.system == row.ref.split(":")[0]
    ids = [r.customer_id for r in rows if r.customer_id]
    assert len({id(x) for x in ids}) == len(set(ids)) < len(ids)  # a customer's contacts share its id


def test_partitioned_records_made_per_use(world_recs):
    """``make``: items turned into engine records each time they are needed give the same result."""
    recs, *_ = world_recs
    cfg = load_identity().matching
    made = []
    result = resolve_partitioned(list(range(len(recs))), cfg, size=40, make=lambda i: made.append(i) or recs[i])
    assert len(made) >= 2 * len(recs)  # (blocks, components, batches: nothing held between)
    _same(result, resolve(list(recs), cfg))


def test_batches_hold_whole_components_and_every_record_once():
    labels = [3, 1, 3, 2, 2, 2, 1, 0, 3, 3]
    got = [sorted(b) for b in batches(labels, 3)]
    assert sorted(i for b in got for i in b) == list(range(10))
    for b in got:  # a component is never split over two batches
        for i in b:
            assert all(j in b for j in range(10) if labels[j] == labels[i])
    assert max(len(b) for b in got) == 4  # the component of four is one batch, bigger than asked


def test_components_follow_shared_blocks_and_skip_too_common_ones(world_recs):
    recs, *_ = world_recs
    cfg = load_identity().matching
    big = too_common(recs, 3, True)
    assert big and all(k[0] in ("del", "phone", "addr") for k in big)
    labels = components(recs, set(), True)
    by_code = {}
    for r, label in zip(recs, labels, strict=True):
        if r.uscc:
            assert by_code.setdefault(r.uscc, label) == label  # one code, one component
    # skipping too-common blocks can only split components, never join them
    fine = components(recs, big, cfg.typo_blocks)
    assert len(set(fine)) >= len(set(labels))


def _tables(engine) -> dict[str, list]:
    """Every identity table's rows (timestamps left out), sorted."""
    from sqlalchemy import DateTime

    from hub_core.schema import customer, customer_review, customer_xref
    from hub_core.schema_identity import (
        contact_xref,
        customer_golden_field,
        customer_record_block,
        identity_registry,
        identity_trail,
    )

    out = {}
    with engine.connect() as conn:
        for t in (customer_record, customer_record_block, customer_xref, customer, customer_golden_field,
                  customer_review, contact_xref, identity_registry, identity_trail):
            cols = [c for c in t.columns if not isinstance(c.type, DateTime) and c.name != "id"]
            out[t.name] = sorted(map(tuple, conn.execute(select(*cols))), key=repr)
    return out


def test_streamed_full_resolution_writes_what_the_in_memory_one_does(tmp_path):
    """A full resolution (staged rows streamed to the table, read back a chunk at a time, writes
    in chunks) leaves every identity table as the in-memory path (staged rows held) does."""
    world, _ = generate(5, 150, knobs=Knobs(difficulty="hard"))
    got = {}
    for full in (True, False):
        engine = open_warehouse(f"sqlite:///{tmp_path / f'w{full}.db'}")
        land_world(engine, world)
        with engine.begin() as conn:
            stats = resolve_customers(conn, load_mapping(), None, full=full)
        assert stats.customers > 100 and stats.review
        got[full] = _tables(engine)
    assert got[True] == got[False]


def test_chunked_writes_equal_one_chunk(tmp_path, monkeypatch):
    """Writing the customers a few at a time leaves the tables as one chunk of everything."""
    from mappings.identity import contacts, writes

    world, _ = generate(6, 120)
    got = []
    for chunk in (10**9, 7):
        monkeypatch.setattr(writes, "CHUNK", chunk)
        monkeypatch.setattr(contacts, "CHUNK", chunk)
        engine = open_warehouse(f"sqlite:///{tmp_path / f'w{chunk}.db'}")
        land_world(engine, world)
        with engine.begin() as conn:
            resolve_customers(conn, load_mapping(), None, full=True)
        got.append(_tables(engine))
    assert got[0] == got[1]
