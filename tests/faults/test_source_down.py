"""One source down during ``hub run``: the others sync, the build and the report go on with them,
the failed source is flagged (its ``sync_run`` failed, one line on the console), ``hub run``
exits non-zero — and a stale-source alert waits in the outbox (reconcile marks the source stale)."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine, func, select

from hub_core.schema import customer
from hub_core.schema_alerts import alert_outbox
from tests.faults.harness import assert_raw_equals_world, make_home, output_lines, run_statuses

pytestmark = pytest.mark.slow
UP = ["crm", "u8", "finance"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def down_run(tmp_path_factory, server):
    """``hub run`` with WeCom unreachable (a closed port), on a fresh SQLite warehouse."""
    folder = tmp_path_factory.mktemp("down")
    url = f"sqlite:///{folder / 'w.db'}"
    home = make_home(folder, server, url, overrides={"wecom": {"base_url": f"http://127.0.0.1:{_free_port()}/wecom"}})
    result = home.hub("run", "--out", str(folder / "out"), "--as-of", server.world.now.isoformat(), timeout=400)
    engine = create_engine(url)
    yield home, result, engine
    engine.dispose()


def test_the_others_publish_and_the_run_exits_non_zero(down_run, world):
    home, result, engine = down_run
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "Traceback" not in text
    statuses = dict(run_statuses(engine))
    assert statuses == {"crm": "succeeded", "u8": "succeeded", "finance": "succeeded", "wecom": "failed"}
    assert_raw_equals_world(engine, world, UP)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customer)).scalar_one() > 0  # the build ran
    out = home.folder / "out"
    for name in ("report.md", "discrepancies.json", "customers.json"):
        assert (out / name).stat().st_size > 0, name
    wecom = [line for line in output_lines(result) if "wecom" in line and "fail" in line]
    assert wecom and all("\n" not in line for line in wecom), text
    assert home.leftover_secrets() == []


def test_a_stale_source_alert_is_queued(down_run):
    _home, _result, engine = down_run
    with engine.connect() as conn:
        subjects = conn.execute(select(alert_outbox.c.subject).where(alert_outbox.c.category == "source_stale"))
        assert "source:wecom" in set(subjects.scalars())
