"""The loader's compact key sets: the same answers as Python sets, in ~8 bytes a key."""

import json
import random

from sqlalchemy import select

from connectors import key_hashes, load_events
from connectors.key_hashes import KeyHashes
from connectors.landing import SingerLoader
from hub_core.schema_quarantine import sync_duplicate_key
from tests.connectors.test_landing import SCHEMA, live_and_deleted, rec, state


def test_key_hashes_answer_as_a_set_across_many_settled_runs():
    rng = random.Random(5)
    hashes, model = KeyHashes(buffer=7), set()
    for _ in range(3000):
        key = f"K{rng.randrange(1200)}"
        hashes.add(key)
        model.add(key)
        if rng.random() < 0.01:
            assert len(hashes) == len(model)
    probe = [f"K{i}" for i in range(1500)]
    assert hashes.missing(probe) == [k for k in probe if k not in model]
    assert len(hashes) == len(model)
    assert len(hashes._runs) <= 12  # merged as they come: ~log2(n / buffer) arrays, not n / buffer


def test_below_its_buffer_a_key_set_is_a_plain_set_and_needs_no_numpy():
    hashes = KeyHashes(buffer=100)
    for key in ("a", "b", "a"):
        hashes.add(key)
    assert not hashes.settled and len(hashes) == 2 and hashes.missing(["a", "c"]) == ["c"]


def test_settle_returns_the_hashes_already_there():
    hashes = KeyHashes(buffer=100)
    for key in ("a", "b"):
        hashes.add(key)
    assert hashes.settle() == set()
    hashes.add("b")
    hashes.add("c")
    assert hashes.settle() == {hash("b")}
    assert len(hashes) == 3


def test_repeats_of_keys_settled_long_before_are_counted_and_listed(engine, monkeypatch):
    monkeypatch.setattr(load_events, "BUFFER", 3)  # settle every third key: repeats span settled arrays
    monkeypatch.setattr(key_hashes, "BUFFER", 3)  # (the same size both sides: no repeat lost in between)
    lines = [rec(f"K{i}") for i in range(20)] + [state(1), rec("K2"), rec("K17"), rec("K5"), rec("K2")]
    stats = SingerLoader(engine, "u8", 1, batch_size=4).feed([json.dumps(SCHEMA), *lines])
    assert stats.duplicates == 4
    with engine.connect() as conn:
        dups = {r.record_key: r.occurrences for r in conn.execute(select(sync_duplicate_key))}
    assert dups == {"K2": 3, "K17": 2, "K5": 2}


def test_a_full_pass_held_in_settled_arrays_marks_exactly_the_unseen_deleted(engine, monkeypatch):
    monkeypatch.setattr(key_hashes, "BUFFER", 5)
    first = SingerLoader(engine, "u8", 1, batch_size=3)
    first.feed([json.dumps(SCHEMA), *[rec(f"K{i}") for i in range(40)], state(1)])
    first.finish_pass()
    gone = {f"K{i}" for i in (0, 13, 27, 39)}
    again = SingerLoader(engine, "u8", 2, batch_size=3)
    again.feed([json.dumps(SCHEMA), *[rec(f"K{i}") for i in range(40) if f"K{i}" not in gone], state(2)])
    assert again.finish_pass() == {"saleorderlist": 4}
    assert live_and_deleted(engine) == ({f"K{i}" for i in range(40)} - gone, gone)
