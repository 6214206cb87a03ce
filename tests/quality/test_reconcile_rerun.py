"""A reconcile re-run as of the same time: the same findings, and no write to unchanged items."""

from datetime import UTC

from sqlalchemy import event, select

from hub_core.schema import discrepancy
from tests.quality.rules_kit import D, T, World, days_ago, run


def _updates(engine, action):
    """The rows each UPDATE statement on ``discrepancy`` that ``action`` sends changed."""
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE DISCREPANCY"):
            seen.append(cursor.rowcount)

    event.listen(engine, "after_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "after_cursor_execute", count)
    return seen


def _last_seen(engine):
    with engine.connect() as conn:
        values = conn.execute(select(discrepancy.c.last_seen)).scalars().all()
    return {v if v.tzinfo else v.replace(tzinfo=UTC) for v in values}


def test_same_as_of_rewrites_nothing_a_later_one_moves_last_seen(engine):
    w = World()
    for n in (1, 2):
        w.customer(f"A{n}")
        w.receivable(f"R{n}", f"A{n}", 10, days_ago(3))
    w.load(engine)
    first = run(engine, ["R5"])
    assert first.persisted.new == 2 and _last_seen(engine) == {T}

    again = []
    assert set(_updates(engine, lambda: again.append(run(engine, ["R5"])))) <= {0}  # nothing to move
    assert again[0].persisted.persisting == 2 and again[0].found == first.found and _last_seen(engine) == {T}

    later = []
    assert _updates(engine, lambda: later.append(run(engine, ["R5"], as_of=T + D))) == [2]  # one statement a rule
    assert later[0].persisted.persisting == 2 and _last_seen(engine) == {T + D}
