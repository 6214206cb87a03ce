"""The persisted block index (mappings/identity/blockindex.py): it follows ``customer_record`` row
for row, and the closure walked through it is the in-memory closure the resolution used before
(kept here as the reference: every record keyed, every block and customer in dicts)."""

import random
from collections import defaultdict

from sqlalchemy import delete, select

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record, customer_record_block
from mappings.config import load_mapping
from mappings.identity import resolve_customers
from mappings.identity.blockindex import Walk, keys_of
from mappings.identity.blocks import big_blocks, block_keys
from mappings.identity.config import load_identity
from mappings.identity.records import to_rec
from tests.mappings.identity.worlds import resolved_then_changed

STRONG = ("core", "link", "code")  # keys the deterministic stages compare: followed from every record


def reference_closure(rows: dict[str, dict], removed: dict[str, dict], seeds: set[str], prev: dict[str, str],
             recs: dict, big: set, keys_by_ref: dict) -> set[str]:
    """Every ref whose match could change when ``seeds`` changed: records sharing a strong key
    (code, link code, name core) or a previous customer with a reached record, and records
    sharing an evidence block (typo variants, phone, address, near code) with a reached record
    that can still go looking: a seed, a former cluster-mate of one, or a record without a
    valid code in a customer without one. Only open groups compare evidence, so this closure
    gives the same clusters as matching everything."""
    by_key: dict[tuple, list[str]] = defaultdict(list)
    keys_of: dict[str, list[tuple]] = {}
    coded_customers = set()
    for ref, row in list(rows.items()) + list(removed.items()):
        rec = recs.get(ref) or to_rec(row)
        keys = (keys_by_ref.get(ref) or block_keys(rec)) + ([("link", rec.link_code)] if rec.link_code else [])
        keys_of[ref] = keys
        for k in keys:
            by_key[k].append(ref)
        if rec.uscc and ref in prev:
            coded_customers.add(prev[ref])
    by_customer: dict[str, list[str]] = defaultdict(list)
    for ref, cid in prev.items():
        by_customer[cid].append(ref)
    hot = set(seeds) | {m for s in seeds if s in prev for m in by_customer[prev[s]]}

    def may_look(ref: str) -> bool:
        row = rows.get(ref) or removed.get(ref)
        return ref in hot or (row is not None and not row["uscc"] and prev.get(ref) not in coded_customers)

    seen, todo, seen_keys, seen_cust = set(seeds), list(seeds), set(), set()
    while todo:
        ref = todo.pop()
        nexts = []
        looks = may_look(ref)
        for k in keys_of.get(ref, ()):
            if k in big:
                continue  # the engine ignores it too
            if (k[0] in STRONG or looks) and (k, looks) not in seen_keys:
                seen_keys.add((k, looks))
                nexts += by_key[k] if looks else [
                    n for n in by_key[k] if k[0] in STRONG or may_look(n)]
        cid = prev.get(ref)
        if cid and cid not in seen_cust:
            seen_cust.add(cid)
            nexts += by_customer[cid]
        for n in nexts:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen



def changed_world(tmp_path):
    """A generated world resolved, then a slice changed (codes dropped, names and phones
    rewritten, new records) and resolved again incrementally (through the index)."""
    engine, stats = resolved_then_changed(tmp_path, 7, 5, changed=10, new=4)
    assert 0 < stats.rematched < stats.records  # the walk ran, not a match of everything
    return engine


def stored_and_expected(conn):
    rows = {r.ref: dict(r._mapping) for r in conn.execute(select(customer_record))}
    t = customer_record_block.c
    stored = {tuple(r) for r in conn.execute(select(t.block, t.ref, t.n, t.live))}
    expected = set()
    for ref, row in rows.items():
        rec = to_rec(row)
        counts = defaultdict(int)
        for kind, value in keys_of(rec):
            counts[f"{kind}\t{value}"] += 1
        expected |= {(b, ref, n, not rec.deleted) for b, n in counts.items()}
    return rows, stored, expected


def test_the_index_follows_the_staged_records_and_is_filled_when_empty(tmp_path):
    engine = changed_world(tmp_path)
    with engine.connect() as conn:
        _, stored, expected = stored_and_expected(conn)
    assert stored == expected and stored
    with engine.begin() as conn:  # a warehouse staged before the index existed: the next build fills it
        conn.execute(delete(customer_record_block))
        resolve_customers(conn, load_mapping(), None)
    with engine.connect() as conn:
        _, stored, expected = stored_and_expected(conn)
    assert stored == expected


def test_the_walk_reaches_what_the_in_memory_closure_reaches(tmp_path):
    engine = changed_world(tmp_path)
    cap = load_identity().matching.max_block
    with engine.connect() as conn:
        rows = {r.ref: dict(r._mapping) for r in conn.execute(select(customer_record))}
        prev = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        recs = {ref: to_rec(row) for ref, row in rows.items()}
        keys = {ref: block_keys(rec) for ref, rec in recs.items()}
        big = big_blocks(((recs[ref], k) for ref, k in keys.items()), cap)
        rng = random.Random(11)
        refs = sorted(rows)
        grew = 0
        for size in (1, 1, 2, 3, 5, 8, 13, 21):
            seeds = set(rng.sample(refs, size))
            expected = reference_closure(rows, {}, seeds, prev, recs, big, keys)
            walk = Walk(conn, rows, {}, cap)
            assert walk.closure(seeds) == expected
            # the engine is told the too-common blocks among the records it sees
            assert walk.big() == {k for ref in expected if ref in recs for k in keys[ref] if k in big}
            grew += len(expected) > len(seeds)
    assert grew  # some seeds reach records beyond themselves


def test_the_walk_over_rows_read_on_demand_reaches_the_same_and_reads_only_what_it_reaches(tmp_path):
    """An incremental resolution holds the refs of the rows kept from the last build and reads a
    row when the walk reaches its record (staged_rows.StagedRows): same closure as over every row
    held, and the rows read are those of the records reached and of their customers' records."""
    from mappings.identity.staged_rows import StagedRows

    engine = changed_world(tmp_path)
    cap = load_identity().matching.max_block
    with engine.connect() as conn:
        rows = {r.ref: {k: v for k, v in r._mapping.items() if k != "changed_at"}
                for r in conn.execute(select(customer_record))}
        prev = dict(conn.execute(select(customer_xref.c.ref, customer_xref.c.customer_id)).all())
        refs = sorted(rows)
        fresh_ref = refs[0]
        rng = random.Random(5)
        fewer = 0
        for size in (1, 2, 3, 8):
            seeds = set(rng.sample(refs, size))
            expected = Walk(conn, rows, {}, cap).closure(seeds)
            lazy = StagedRows(conn, set(refs) - {fresh_ref}, {fresh_ref: rows[fresh_ref]})
            assert len(lazy) == len(rows) and set(lazy) == set(rows) and fresh_ref in lazy and "x:y:z" not in lazy
            assert Walk(conn, lazy, {}, cap).closure(seeds) == expected
            members = {r for r, cid in prev.items() if cid in {prev.get(e) for e in expected}}
            assert set(lazy._read) <= expected | members  # nothing beyond what the walk looked at
            assert all(lazy[r] == rows[r] for r in lazy._read)  # read back as staged
            fewer += len(lazy._read) < len(rows) - 1
        assert fewer
        lazy = StagedRows(conn, set(refs), {})
        assert dict(lazy.items()) == rows and lazy.get("x:y:z") is None
