"""Contacts staged into a temporary table and read a batch at a time (contact_stage.py) give what
the in-memory staging (contacts.stage_contacts) holds: the same records in the same order, the
same matching result, and the crosswalk a full resolution writes follows those clusters; the
partitioned matching reads one batch of records at a time, never all of them. SQLite and
PostgreSQL."""

from collections import defaultdict

import pytest
from sqlalchemy import select

from hub_core.schema_identity import contact_xref
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.config import load_identity
from mappings.identity.contact_stage import StagedContacts, phones_json, stage_contacts_on_demand
from mappings.identity.contacts import stage_contacts
from mappings.identity.partition import resolve_partitioned
from simulators.generator import Knobs, generate
from tests.mappings.identity.worlds import land_world


@pytest.fixture
def resolved(engine):
    """A hard generated world, landed and resolved in full (contacts through the on-demand path)."""
    world, _ = generate(5, 150, knobs=Knobs(difficulty="hard"))
    land_world(engine, world)
    with engine.begin() as conn:
        resolve_customers(conn, load_mapping(), None, full=True)
    return engine


def test_on_demand_staging_gives_the_in_memory_records(resolved):
    cfg, source_for = load_identity(), load_mapping().source_for
    with resolved.begin() as conn:
        cols = stage_contacts(conn, cfg, source_for)
        staged = stage_contacts_on_demand(conn, cfg, source_for)
        assert len(staged) == len(cols) > 100
        assert list(staged) == list(cols)  # every engine record, in ref order
        assert list(staged.rows()) == [(r.ref, r.name, phones_json(r.phones), r.customer_id) for r in cols.rows()]
        some = [len(cols) - 1, 3, 0, 57]
        assert staged.load_batch(some) == [cols[i] for i in some]
        refs = [cols.refs[i] for i in some]
        assert staged.rows_of(refs) == {r.ref: (r.name, phones_json(r.phones), r.customer_id)
                                        for r in map(cols.row, some)}
        assert any(r.customer_id for r in cols.rows()) and any(r.customer_id is None for r in cols.rows())
        staged.drop()


def test_on_demand_matching_reads_one_batch_at_a_time_and_matches_the_in_memory_one(resolved, monkeypatch):
    cfg, source_for = load_identity(), load_mapping().source_for
    matching = cfg.matching.model_copy(update={"typo_blocks": False})
    loaded = []
    plain = StagedContacts.load_batch

    def counted(self, numbers):
        out = plain(self, numbers)
        loaded.append(len(out))
        return out

    monkeypatch.setattr(StagedContacts, "load_batch", counted)
    with resolved.begin() as conn:
        cols = stage_contacts(conn, cfg, source_for)
        held = resolve_partitioned(cols, matching, size=40, indexes=False)
        staged = stage_contacts_on_demand(conn, cfg, source_for)
        lean = resolve_partitioned(staged, matching, size=40, indexes=False)
        staged.drop()
    assert (lean.clusters, lean.roots, lean.joins, lean.review) == (held.clusters, held.roots, held.joins, held.review)
    assert sum(loaded) == len(cols) and len(loaded) > 1 and max(loaded) < len(cols)


def test_full_resolution_writes_the_crosswalk_of_the_in_memory_clusters(resolved, monkeypatch):
    """The contacts' crosswalk (written from rows read back a chunk of clusters at a time, here
    chunks of 7) groups the refs as the in-memory matching clusters them, with each record's
    staged name, numbers and its cluster's customer."""
    from mappings.identity import contacts

    monkeypatch.setattr(contacts, "CHUNK", 7)
    with resolved.begin() as conn:
        conn.execute(contact_xref.delete())
        resolve_customers(conn, load_mapping(), None, full=True)
    cfg, source_for = load_identity(), load_mapping().source_for
    with resolved.connect() as conn:
        cols = stage_contacts(conn, cfg, source_for)
        held = resolve_partitioned(cols, cfg.matching.model_copy(update={"typo_blocks": False}), indexes=False)
        rows = {r.ref: r for r in conn.execute(select(contact_xref))}
    by_id = defaultdict(set)
    for ref, r in rows.items():
        by_id[r.contact_id].add(ref)
    assert sorted(map(sorted, by_id.values())) == sorted(held.clusters)
    for cluster in held.clusters:
        staged = [cols.row(cols.index(ref)) for ref in cluster]
        customer_id = next((r.customer_id for r in staged if r.customer_id), None)
        for r in staged:
            got = rows[r.ref]
            assert (got.name, got.phones, got.customer_id, got.match_method) == (
                r.name, phones_json(r.phones), customer_id, held.joins[r.ref].rule)
