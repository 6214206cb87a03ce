"""The benchmark's own tools: the bare client reads every record the world holds (so the
yardsticks load the same data as the hub), and the results tables compute the issue's ratios."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import plain_fetch
import plots


@pytest.fixture(scope="module")
def served():
    from hub_cli.demo import demo_sources
    from simulators.generator import generate
    from simulators.server import SimulatorServer

    world, _ = generate(seed=3, customers=30)
    with SimulatorServer(world) as server:
        data, secrets = demo_sources(server.urls)
        old = dict(os.environ)
        os.environ.update(secrets)
        try:
            yield world, data["sources"]
        finally:
            os.environ.clear()
            os.environ.update(old)


@pytest.mark.slow
def test_bare_client_reads_every_record_of_crm_u8_and_finance(served):
    world, sources = served
    got: dict[tuple[str, str], list] = {}
    for source, stream, key, record in plain_fetch.fetch_all(sources):
        got.setdefault((source, stream), []).append((key, record))
    streams = plain_fetch.STREAMS
    for name in streams["crm"]["objects"]:
        assert len(got.get(("crm", name), [])) == len(world["crm"].get(name, [])), name
    for name in streams["u8"]["resources"]:
        assert len(got.get(("u8", name), [])) == len(world["u8"].get(name, [])), name
    assert len(got[("finance", "credit_rating")]) == len(world["finance"]["credit_rating"])
    orders = got[("u8", "saleorderlist")]
    assert orders and all("entry" in record for _, record in orders)  # the per-document get ran
    assert len({key for key, _ in orders}) == len(orders)  # keys name records one to one


@pytest.mark.slow
def test_only_limits_to_one_source(served):
    _, sources = served
    assert {s for s, *_ in plain_fetch.fetch_all(sources, only="finance")} == {"finance"}


def _run(full_sync=100.0, inc_sync=4.0) -> dict:
    stage = {"seconds": 10.0, "inside_s": 8.0, "records": 1000, "peak_rss_mb": 100}
    st = {f"{phase}:{s}": dict(stage) for phase in ("full", "incremental") for s in plots.STAGES}
    per = {s: {"seconds": full_sync / 4, "records": 10_000, "landed": 10_000} for s in ("crm", "u8", "finance", "wecom")}
    st["full:sync"] |= {"seconds": full_sync, "records": 40_000, "per_source": per}
    st["incremental:sync"] |= {"seconds": inc_sync, "per_source": per}
    st["bulk"] = {"seconds": 12.0, "inside_s": 10.0, "records": 30_000, "peak_rss_mb": 90}
    st["dlt:merge"] = {"dlt": "x", "records": 30_000, "peak_rss_mb": 150, "passes": [
        {"records": 30_000, "seconds": 50.0, "extract_s": 1, "normalize_s": 1, "load_s": 1},
        {"records": 30_000, "seconds": 25.0, "extract_s": 1, "normalize_s": 1, "load_s": 1}]}
    st["parallel:sync"] = {"seconds": 50.0, "processes": 4, "peak_rss_mb": 100}
    return {"customers": 10_000, "orders": 20_000, "warehouse": "sqlite", "stages": st}


def test_ratios_compare_the_same_sources():
    r = plots.ratios(_run())
    assert r["hub_landing_rps"] == pytest.approx(30_000 / 75)  # crm + u8 + finance only
    assert r["landing_vs_bulk"] == pytest.approx(400 / 3000)
    assert r["hub_vs_dlt_merge"] == pytest.approx(400 / 600)
    assert r["dlt_merge_rerun_share"] == pytest.approx(0.5)
    assert r["incremental_share"] == pytest.approx((4 + 30) / (100 + 30))
    assert r["parallel_sync_speedup"] == pytest.approx(2.0)


@pytest.mark.slow  # matplotlib's first import builds its font cache
def test_results_markdown_names_every_target(tmp_path):
    plots.write_all({"started": "now", "cores": 2, "runs": [_run()]}, tmp_path)
    text = (tmp_path / "results.md").read_text()
    for phrase in ("dlt merge", "plain bulk insert", "incremental run after 1 %", "R1-R11", "entity resolution"):
        assert phrase in text
    assert (tmp_path / "throughput.png").stat().st_size > 1000


def test_scale_out_is_the_in_process_stages_against_the_multiprocess_job():
    run = _run()
    run["stages"]["scaleout"] = {"seconds": 65.0, "processes": 9, "run_storage": "PostgresRunStorage",
                                 "records": 40_000, "peak_rss_mb": 120, "steps": {"raw_u8": [0.0, 50.0]}}
    # sync 100 + build 10 + reconcile 10 + report 10 in process, against the job's 65 s
    assert plots.ratios(run)["scaleout_speedup"] == pytest.approx(130 / 65)
    assert plots.ratios(run)["scaleout_sync_speedup"] == pytest.approx(8 / 50)  # sync's work / raw steps' span
    text = "\n".join(plots.table(run))
    assert "multiprocess executor (9 processes, storage PostgresRunStorage)" in text and "raw_u8 [0.0, 50.0]" in text


def test_bench_sources_lift_client_budgets_and_keep_bytecode(tmp_path, monkeypatch):
    import json

    import serve

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    path, env = serve.sources_for({n: f"http://sim/{n}" for n in ("crm", "u8", "finance", "wecom")}, tmp_path)
    sources = json.loads(path.read_text())["sources"]
    assert {s["config"]["rate_limits"] == [] for s in sources.values()} == {True}
    assert "PYTHONDONTWRITEBYTECODE" not in env  # stages and taps reuse compiled bytecode
    assert env["HUB_DEMO_U8_APP_SECRET"] and "${HUB_DEMO_U8_APP_SECRET}" in path.read_text()


def test_profile_summary_ranks_frames_by_samples(tmp_path):
    import profile_sync

    raw = tmp_path / "stacks.txt"
    raw.write_text("main (a.py:1);work (a.py:5);send (b.py:9) 30\nmain (a.py:1);work (a.py:5) 10\n"
                   "main (a.py:1);idle (c.py:2) 60\n")
    text = profile_sync.summary(raw)
    assert text.splitlines()[0] == "stacks.txt: 100 samples"
    own = text.split("total:")[0]
    assert own.index("idle (c.py:2)") < own.index("send (b.py:9)") < own.index("work (a.py:5)")
    assert " 40.0%  work (a.py:5)" in text.split("total:")[1]


def test_one_process_run_counts_its_start_up_in_the_ratio():
    run = _run()
    run["stages"]["full:start"] = {"seconds": 5.0, "cpu_s": 1.0, "records": 0, "peak_rss_mb": 300}
    run["stages"]["incremental:start"] = {"seconds": 5.0, "cpu_s": 1.0, "records": 0, "peak_rss_mb": 300}
    assert plots.ratios(run)["incremental_share"] == pytest.approx((4 + 30 + 5) / (100 + 30 + 5))
    assert any(line.startswith("| start-up of the run's one process") for line in plots.table(run))


def test_pipeline_run_splits_the_process_into_its_steps_and_start_up():
    import run as bench_run

    steps = {"sync": {"seconds": 6.0, "cpu_s": 3.0, "records": 9, "peak_rss_mb": 90},
             "report": {"seconds": 2.5, "cpu_s": 2.0, "records": 4, "peak_rss_mb": 120}}
    seen = []

    def stage(name, url, *extra):
        seen.append((name, url, extra))
        return {"seconds": 10.0, "cpu_s": 6.5, "peak_rss_mb": 130, "records": 9, "steps": dict(steps)}

    out = bench_run.pipeline_run(stage, "db-url", "incremental", 4)
    assert seen == [("run", "db-url", ("--parallel", "4"))]
    assert out["incremental:sync"] == steps["sync"] and out["incremental:report"] == steps["report"]
    assert (out["incremental:start"]["seconds"], out["incremental:start"]["cpu_s"]) == (1.5, 1.5)


@pytest.mark.slow
def test_one_process_run_times_each_step_of_a_real_pipeline(served, tmp_path):
    import json
    import subprocess

    from simulators.world import as_world

    world, sources = served
    (tmp_path / "sources.json").write_text(json.dumps({"sources": sources}))
    out = subprocess.run(
        [sys.executable, str(BENCH / "stages.py"), "run", "--warehouse", f"sqlite:///{tmp_path / 'w.db'}",
         "--sources", str(tmp_path / "sources.json"), "--as-of", as_world(world).now.isoformat(),
         "--out", str(tmp_path / "report"), "--parallel", "2"],
        capture_output=True, text=True, check=True, env=os.environ | {"PYTHONPATH": str(BENCH.parent)})
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    steps = figures["steps"]
    assert list(steps) == ["sync", "build", "reconcile", "report"]
    # the records are counted after each step's clock stopped (stages.settle), and counted
    assert all(isinstance(s["records"], int) and s["records"] > 0 for s in steps.values())
    assert steps["sync"]["landed"] == steps["sync"]["records"] > 0 and set(steps["sync"]["per_source"]) == set(sources)
    assert steps["sync"]["cpu_s"] > 0 and all(s["seconds"] >= 0 and s["peak_rss_mb"] > 0 for s in steps.values())
    written = json.loads((tmp_path / "report" / "discrepancies.json").read_text())
    assert steps["report"]["discrepancies"] == len(written) == sum(steps["reconcile"]["found"].values())
