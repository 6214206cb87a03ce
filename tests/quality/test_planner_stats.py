"""Reconcile gives the planner statistics for what the rules read (PostgreSQL), and only when they
are missing or stale; the findings are those of a run without it."""

from sqlalchemy import text

from hub_core import planner_stats
from hub_core.schema import discrepancy
from quality.reconcile import _tables_read
from quality.registry import RULES
from tests.quality.rules_kit import World, days_ago, run


def _never_analysed(engine, names):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, reltuples FROM pg_class WHERE oid = ANY("
                                 "SELECT to_regclass(n) FROM unnest(CAST(:n AS text[])) AS n)"), {"n": names}).all()
    return sorted(name for name, reltuples in rows if reltuples < 0)


def test_reconcile_analyses_tables_without_statistics_once(engine):
    w = World()
    for n in range(1, 4):
        w.customer(f"A{n}")
        w.receivable(f"R{n}", f"A{n}", 10, days_ago(40 + n))
    w.load(engine)
    names = [t.name for t in _tables_read([s.id for s in RULES])] + ["deal_order_pair"]
    if engine.dialect.name == "postgresql":
        assert "receivable" in _never_analysed(engine, names)
    first = run(engine, [s.id for s in RULES])
    again = run(engine, [s.id for s in RULES])
    assert first.found == again.found and first.found["R5"] == 3
    with engine.connect() as conn:
        assert planner_stats.refresh(conn, _tables_read([s.id for s in RULES])) == []  # fresh now
    if engine.dialect.name == "postgresql":
        assert _never_analysed(engine, names) == []


def test_stale_by_autovacuums_measure():
    assert planner_stats._stale(-1, 0)  # never analysed
    assert not planner_stats._stale(1000, 150)  # 150 <= 50 + 10 %
    assert planner_stats._stale(1000, 151)
    assert not planner_stats._stale(0, 50)


def test_tables_of_reads_the_modules_tables():
    names = [t.name for t in planner_stats.tables_of(["quality.rules.r8_dormant_top_customer"])]
    assert names == ["account_profile", "sales_order"]


def test_the_run_that_fills_discrepancy_leaves_its_statistics_at_its_size(engine):
    """The first run writes every finding; it analyses ``discrepancy`` itself (the next run, the
    incremental one, used to find its statistics stale at its start)."""
    w = World()
    for n in range(1, 81):
        w.customer(f"A{n}")
        w.receivable(f"R{n}", f"A{n}", 10, days_ago(45))
    w.load(engine)
    first = run(engine, ["R5"])
    assert first.found["R5"] == 80
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            reltuples = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('discrepancy')")).scalar()
            assert reltuples == 80
            assert planner_stats.refresh_rewritten(conn, discrepancy, 80) == []
