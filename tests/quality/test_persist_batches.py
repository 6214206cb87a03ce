"""Findings merged in batches (quality.discrepancies.Persister) end exactly as merged at once:
new, persisting (changed or not), resolved and reopened items across three runs, on both
warehouses, with a batch of one candidate against one batch for the whole run."""

from datetime import UTC

import pytest
from sqlalchemy import delete, select

from hub_core.schema import discrepancy
from quality.discrepancies import Persister
from quality.rules.base import Candidate
from tests.quality.rules_kit import D, T

RUNS = [  # (as of, {rule: [(anchor, amount)]})
    (T, {"R1": [("a", 1), ("b", 2), ("c", 3)], "R5": [("x", 9)]}),
    (T + D, {"R1": [("b", 20), ("c", 3), ("d", 4)], "R5": []}),
    (T + 2 * D, {"R1": [("a", 1), ("c", 3)], "R5": [("x", 9)]}),
]


def _merge_all(engine, batch: int) -> tuple[list, list[dict]]:
    """The three runs merged into an emptied ``discrepancy``: each run's stats, the final rows."""
    with engine.begin() as conn:
        conn.execute(delete(discrepancy))
    stats = []
    for as_of, by_rule in RUNS:
        with engine.begin() as conn:
            p = Persister(conn, as_of.astimezone(UTC), batch=batch)  # stored as UTC, as reconcile passes it
            for rule, found in by_rule.items():
                p.rule(rule, (Candidate(rule, "red", [f"{rule}:{a}"], None, cents, None) for a, cents in found))
            stats.append((p.stats.new, p.stats.persisting, p.stats.reopened, p.stats.resolved, p.stats.per_rule))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(discrepancy).order_by(discrepancy.c.discrepancy_id))]
    for row in rows:
        for k, v in row.items():
            if hasattr(v, "tzinfo") and v.tzinfo is None:
                row[k] = v.replace(tzinfo=UTC)
    return stats, rows


def test_batches_of_one_end_as_one_batch(engine):
    one_batch = _merge_all(engine, batch=10_000)
    single = _merge_all(engine, batch=1)
    assert single == one_batch
    stats, rows = one_batch
    by_id = {r["discrepancy_id"]: r for r in rows}
    assert [s[:4] for s in stats] == [(4, 0, 0, 0), (1, 2, 0, 2), (0, 1, 2, 2)]
    assert {k: (r["status"], r["first_seen"], r["resolved_at"]) for k, r in by_id.items()} == {
        "R1|R1:a": ("open", T, None),  # resolved on day 2, reopened on day 3 (first seen kept)
        "R1|R1:b": ("resolved", T, T + 2 * D),
        "R1|R1:c": ("open", T, None),
        "R1|R1:d": ("resolved", T + D, T + 2 * D),
        "R5|R5:x": ("open", T, None),
    }
    assert by_id["R1|R1:a"]["reopened_at"] == by_id["R5|R5:x"]["reopened_at"] == T + 2 * D
    assert by_id["R1|R1:b"]["amount_cents"] == 20 and by_id["R1|R1:c"]["last_seen"] == T + 2 * D
    # last_seen: the run that last found the item (resolved ones keep theirs; R5:x was not found on day 2)
    assert {k: r["last_seen"] for k, r in by_id.items()} == {
        "R1|R1:a": T + 2 * D, "R1|R1:b": T + D, "R1|R1:c": T + 2 * D, "R1|R1:d": T + D, "R5|R5:x": T + 2 * D}


@pytest.mark.parametrize("warehouse_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_moving_last_seen_leaves_the_indexes_alone_on_postgresql(engine):
    """Every run moves ``last_seen`` on every open item; on PostgreSQL the table keeps room on its
    pages (migration 0018) so that move is a heap-only update: no new entry in any of its indexes.
    (Checked on the first move: later ones stay heap-only once the page is pruned of the previous
    versions, which waits for every older open transaction of the server - other tests' here.)"""
    from sqlalchemy import text

    found = [(f"a{i}", i) for i in range(400)]
    with engine.connect() as conn:  # one backend: its own counters are flushed on demand below
        for day in range(2):
            with conn.begin():
                Persister(conn, (T + day * D).astimezone(UTC)).rule(
                    "R1", (Candidate("R1", "red", [f"R1:{a}"], None, cents, None) for a, cents in found))
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.commit()  # flushed as the backend goes idle after this transaction
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        updated, hot = conn.execute(text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relid = 'discrepancy'::regclass")).one()
    assert updated >= len(found)  # the second run moved every item
    assert hot >= 0.9 * updated, (updated, hot)
