"""Issue #7, "Source outage" end to end: after a good run, U8 answers with a tenth of its records
(or nothing at all). The hub must keep serving the last good U8 data - unified tables and
customer_360 exactly as before, no false or resolved item - hold the U8 rules back, show U8 stale,
queue an alert, and make ``hub run`` fail (``PipelineResult.success`` is its exit code)."""

import json

import pytest
from sqlalchemy import create_engine, select

from hub_cli.demo import SOURCE_NAMES, demo_sources
from hub_core.schema import discrepancy, metadata, sync_run
from hub_core.schema_alerts import alert_outbox
from hub_core.schema_unified import customer_360
from orchestration.run import run_pipeline
from simulators.server import SimulatorServer

# one warm tap launcher for the module's pipeline runs (each run would start its own)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]

U8_TABLES = ("customer_xref", "employee_account", "sales_order", "sales_order_line", "dispatch", "invoice",
             "receivable", "receipt", "product", "stock")


def _snapshot(engine) -> dict:
    """Every unified row that came from U8, and the whole published customer_360 (build id, as-of
    instant and sync times aside: ``hub run`` builds as of the wall clock, so those move)."""
    out = {}
    with engine.connect() as conn:
        for name in U8_TABLES:
            table = metadata.tables[name]
            cols = [c for c in table.c if c.name != "build_id"]
            rows = conn.execute(select(*cols).where(table.c.ref.like("u8:%"))).all()
            out[name] = sorted(tuple(str(v) for v in r) for r in rows)
        cols = [c for c in customer_360.c if c.name not in ("build_id", "as_of") and not c.name.endswith("_synced_at")]
        out["customer_360"] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*cols)))
        d = discrepancy.c
        out["open"] = sorted(conn.execute(select(d.discrepancy_id, d.status, d.first_seen, d.resolved_at)
                                          .where(d.status != "resolved")).all())
    return out


# each warehouse with one of the two collapses (all four pairs ran the same code for ~55 s of the suite)
@pytest.mark.parametrize(("warehouse_url", "shrink"), [
    ("sqlite", "tenth"), pytest.param("postgres", "nothing", marks=pytest.mark.postgres)], indirect=["warehouse_url"])
def test_u8_collapsing_after_a_good_run_keeps_the_last_good_data(tmp_path, warehouse_url, monkeypatch, shrink):
    from simulators.generator import generate

    world, _ = generate(5, customers=30)
    with SimulatorServer(world) as server:
        sources, secrets = demo_sources(server.urls)
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        connectors = tmp_path / "connectors.yaml"
        connectors.write_text(json.dumps(sources), encoding="utf-8")
        now = server.world.now

        def run(out):
            return run_pipeline(warehouse_url, str(connectors), str(tmp_path / out), SOURCE_NAMES, as_of=now)

        good = run("good")
        assert good.success, good.failures
        engine = create_engine(warehouse_url)
        try:
            before = _snapshot(engine)
            assert before["sales_order"] and before["customer_xref"] and before["customer_360"]
            assert before["open"]
            u8 = server.world.data["u8"]
            for stream, rows in u8.items():
                u8[stream] = rows[: len(rows) // 10] if shrink == "tenth" else []
            bad = run("bad")
            after = _snapshot(engine)
            with engine.connect() as conn:
                last_u8 = conn.execute(select(sync_run.c.status, sync_run.c.deletions_withheld).where(
                    sync_run.c.source == "u8").order_by(sync_run.c.id.desc()).limit(1)).one()
                alerts = set(conn.execute(select(alert_outbox.c.subject).where(
                    alert_outbox.c.category == "source_stale")).scalars())
        finally:
            engine.dispose()
    # the last good U8 data is still served: unified rows, customer_360, open items - all unchanged
    for name in (*U8_TABLES, "customer_360", "open"):
        assert after[name] == before[name], name
    # the sync itself worked; what it returned was too little to believe
    assert last_u8.status == "succeeded" and json.loads(last_u8.deletions_withheld)["customer"]["withheld"] > 0
    assert not bad.success  # hub run exits 1
    assert "deletions withheld" in bad.stale_sources["u8"]
    held = bad.metadata["discrepancies"]["held_back"]
    assert {"R1", "R2", "R5"} <= set(json.loads(held)), held
    assert "source:u8" in alerts
    report = (tmp_path / "bad" / "report.md").read_text(encoding="utf-8")  # the digest says it too
    assert "u8：暂缓删除" in report and "R1" in next(line for line in report.splitlines() if "暂缓发布的规则" in line)
