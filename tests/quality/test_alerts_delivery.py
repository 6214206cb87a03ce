"""Alert delivery against the robot simulators (in-process), on SQLite and PostgreSQL: signed
and rate-respecting posts, digests, retries that lose nothing, and no secret anywhere."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from hub_core.schema import discrepancy
from hub_core.schema_alerts import alert_attempt, alert_outbox
from quality.alerts.delivery import send_due
from quality.alerts.routing import queue_due_alerts, queue_source_stale_alert
from simulators.server import SimulatorServer
from tests.quality.test_alerts import (
    ENV,
    discrepancy_row,
    outbox_rows,
    seed,
    write_config,
)

SECRETS = list(ENV.values())


@pytest.fixture(scope="module")
def server():
    with SimulatorServer({}) as sim:
        yield sim


@pytest.fixture
def robots(server):
    sim = server.app.state.robots
    sim.messages.clear()
    sim.rejected.clear()
    sim.faults.clear()
    sim._hits.clear()
    sim.timeout_delay = 5.0
    sim.clock = time.time
    return sim


@pytest.fixture
def cfg(tmp_path, server, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return write_config(tmp_path, server.base_url + "/robots")


def now() -> datetime:
    return datetime.now(UTC)


def queue_now(engine, cfg, at=None):
    with engine.begin() as conn:
        return queue_due_alerts(conn, cfg, at or now())


def test_messages_reach_both_robots_signed_with_mentions(engine, cfg, robots):
    seed(engine, discrepancy_row(1, first_seen=now()), discrepancy_row(2, owner="李四", region="华东大区",
                                                                       first_seen=now()))
    queue_now(engine, cfg)
    stats = send_due(engine, cfg)
    assert (stats.sent, stats.failed, stats.digests) == (2, 0, 0)
    [wecom] = robots.received("wecom")
    assert wecom["robot"] == ENV["T_SOUTH_KEY"] and "<@zhangsan>" in wecom["payload"]["markdown"]["content"]
    [ding] = robots.received("dingtalk")
    assert ding["robot"] == ENV["T_EAST_TOKEN"]  # the simulator checked the signature and timestamp
    assert ding["payload"]["at"] == {"atMobiles": ["13900000004"], "isAtAll": False}
    assert "客户002有限公司" in ding["payload"]["markdown"]["title"]
    assert robots.rejected == []
    assert [(r.status, r.attempts, r.last_error) for r in outbox_rows(engine)] == [("sent", 1, None)] * 2
    assert send_due(engine, cfg).sent == 0  # nothing twice


def test_25_due_alerts_to_one_robot_make_at_most_20_messages(engine, cfg, robots):
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(25)])
    assert queue_now(engine, cfg).queued == 25
    stats = send_due(engine, cfg)
    received = robots.received(robot=ENV["T_SOUTH_KEY"])
    assert 1 <= len(received) <= 20 and robots.rejected == []
    assert stats.failed == 0 and stats.digested == 25 and stats.sent == stats.digests == len(received)
    text = "\n".join(m["payload"]["markdown"]["content"] for m in received)
    assert all(f"客户{n:03d}有限公司" in text for n in range(25))  # nothing dropped from the digests
    assert all(len(m["payload"]["markdown"]["content"].encode()) <= 4096 for m in received)
    rows = outbox_rows(engine)
    members = [r for r in rows if r.category == "discrepancy"]
    assert {r.status for r in members} == {"in_digest"} and all(r.sent_at is not None for r in members)
    assert {r.status for r in rows if r.category == "digest"} == {"sent"}


def test_budget_counts_posts_of_the_last_minute(engine, cfg, robots):
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(18)])
    queue_now(engine, cfg)
    assert send_due(engine, cfg).sent == 18
    with engine.begin() as conn:  # 18 more alerts due for the same robot, only 2 posts left this minute
        conn.execute(insert(discrepancy), [discrepancy_row(n, severity="orange", first_seen=now() - timedelta(days=4))
                                           for n in range(100, 118)])
    assert queue_now(engine, cfg).queued == 18
    stats = send_due(engine, cfg)
    assert stats.digests >= 1 and stats.digested == 18 and stats.failed == 0
    assert len(robots.received()) <= 20 and robots.rejected == []


def test_failed_delivery_stays_in_the_outbox_and_goes_out_next_send(engine, cfg, robots):
    seed(engine, discrepancy_row(1, first_seen=now()), discrepancy_row(2, owner="李四", region="华东大区",
                                                                       first_seen=now()))
    queue_now(engine, cfg)
    robots.faults.inject(1, 503, "/cgi-bin/webhook/send")
    robots.timeout_delay = 3.0
    robots.faults.inject(1, "timeout", "/robot/send")
    stats = send_due(engine, cfg)
    assert (stats.sent, stats.failed) == (0, 2) and robots.received() == []
    rows = outbox_rows(engine)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert rows[0].last_error == "HTTP 503" and "Timeout" in rows[1].last_error
    assert send_due(engine, cfg).sent == 0  # backing off: not due yet
    later = send_due(engine, cfg, now() + timedelta(minutes=2))
    assert (later.sent, later.failed) == (2, 0) and len(robots.received()) == 2
    assert [(r.status, r.attempts) for r in outbox_rows(engine)] == [("sent", 2), ("sent", 2)]
    with engine.connect() as conn:
        assert [a.ok for a in conn.execute(select(alert_attempt).order_by(alert_attempt.c.id))] == [
            False, False, True, True]


def test_rate_limit_answer_stops_that_robot_for_this_run(engine, cfg, robots):
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(3)])
    queue_now(engine, cfg)
    robots.faults.inject(1, 45009)
    stats = send_due(engine, cfg)
    assert (stats.sent, stats.failed, stats.deferred) == (0, 1, 2)
    assert "errcode 45009" in outbox_rows(engine)[0].last_error
    assert send_due(engine, cfg, now() + timedelta(minutes=2)).sent == 3


def test_bad_signature_and_unset_secret_are_recorded_failures(engine, cfg, robots, monkeypatch):
    seed(engine, discrepancy_row(1, first_seen=now()), discrepancy_row(2, owner="李四", region="华东大区",
                                                                       first_seen=now()))
    queue_now(engine, cfg)
    monkeypatch.setenv("T_EAST_SECRET", "SECnot-the-right-secret")
    monkeypatch.delenv("T_SOUTH_KEY")
    stats = send_due(engine, cfg)
    assert (stats.sent, stats.failed) == (0, 2)
    south, east = outbox_rows(engine)
    assert south.last_error == "robot south: environment variable T_SOUTH_KEY is not set"
    assert east.last_error.startswith("errcode 310000") and robots.rejected[0]["errcode"] == 310000


def test_no_secret_in_logs_outbox_or_cli_output(engine, cfg, robots, caplog, monkeypatch, tmp_path):
    from hub_cli.main import app

    caplog.set_level(logging.DEBUG)
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(3)],
         discrepancy_row(9, owner="李四", region="华东大区", first_seen=now()))
    with engine.begin() as conn:
        queue_source_stale_alert(conn, "u8", f"token {ENV['T_HQ_KEY']} rejected", 7200, config=cfg)
    monkeypatch.setenv("HUB_ALERTS_FILE", str(tmp_path / "alerts.yaml"))
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("COLUMNS", "250")
    robots.faults.inject(1, 502, "/robot/send")
    robots.faults.inject(1, 45009, "/cgi-bin/webhook/send")
    runner = CliRunner()
    failed = runner.invoke(app, ["-v", "alerts", "send", "--warehouse", url])
    assert failed.exit_code == 1 and "HTTP 502" in failed.output and "queued 4" in failed.output
    listed = runner.invoke(app, ["alerts", "list", "--warehouse", url])
    assert listed.exit_code == 0 and "pending" in listed.output and "HTTP 502" in listed.output
    assert "errcode 45009" in listed.output
    caplog.set_level(logging.DEBUG, logger="httpx")  # the CLI quiets httpx; it logs every URL at INFO
    robots.faults.inject(1, 503)
    retried = send_due(engine, cfg, now() + timedelta(minutes=5))
    assert retried.failed == 1 and retried.sent == 1
    assert send_due(engine, cfg, now() + timedelta(minutes=30)).failed == 0
    last = runner.invoke(app, ["alerts", "send", "--warehouse", url])
    assert last.exit_code == 0 and "failed 0" in last.output
    assert {r.status for r in outbox_rows(engine)} == {"sent"}
    everything = [listed.output, failed.output, last.output, caplog.text, json.dumps([str(r) for r in caplog.records])]
    with engine.connect() as conn:
        everything += [json.dumps([list(map(str, r)) for r in conn.execute(select(alert_outbox))]),
                       json.dumps([list(map(str, r)) for r in conn.execute(select(alert_attempt))])]
    assert any("webhook/send" in line for line in caplog.text.splitlines())  # the HTTP calls were logged...
    for secret in SECRETS:
        assert all(secret not in text for text in everything), secret  # ...but no credential
    assert "sign=***" in caplog.text or "/robot/send" not in caplog.text


def test_dingtalk_digest_mentions_every_owner(engine, cfg, robots):
    rows = [discrepancy_row(n, owner="李四" if n % 2 else "王五", region="华东大区", first_seen=now())
            for n in range(30)]
    seed(engine, *rows)
    queue_now(engine, cfg)
    stats = send_due(engine, cfg)
    received = robots.received("dingtalk")
    assert stats.failed == 0 and stats.digested == 30 and 1 <= len(received) <= 20 and robots.rejected == []
    mobiles = {m for msg in received for m in msg["payload"]["at"]["atMobiles"]}
    assert mobiles == {"13900000004", "13900000006"}
    assert all(f"@{m}" in msg["payload"]["markdown"]["text"]
               for msg in received for m in msg["payload"]["at"]["atMobiles"])


def test_exhausted_budget_defers_without_failing(engine, cfg, robots):
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(20)])
    queue_now(engine, cfg)
    assert send_due(engine, cfg).sent == 20
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [discrepancy_row(50, first_seen=now())])
    queue_now(engine, cfg)
    stats = send_due(engine, cfg)
    assert (stats.sent, stats.failed, stats.deferred) == (0, 0, 1)
    assert outbox_rows(engine)[-1].status == "pending" and outbox_rows(engine)[-1].attempts == 0
    start = time.time()
    robots.clock = lambda: start + 61  # a minute later, for the robot and for us: room again
    assert send_due(engine, cfg, now() + timedelta(seconds=61)).sent == 1


def test_a_message_taken_by_another_send_is_not_posted_twice(engine, cfg, robots):
    from quality.alerts import outbox

    seed(engine, discrepancy_row(1, first_seen=now()), discrepancy_row(2, first_seen=now()))
    queue_now(engine, cfg)
    first, _ = outbox_rows(engine)
    at = now()
    with engine.begin() as conn:  # another sender is posting the first message right now
        assert outbox.claim(conn, first, at, timedelta(seconds=70))
        assert not outbox.claim(conn, first, at, timedelta(seconds=70))
    stats = send_due(engine, cfg, at)
    assert stats.sent == 1 and len(robots.received()) == 1
    assert [r.status for r in outbox_rows(engine)] == ["pending", "sent"]
    # That sender died mid-post: after the lease the message is due again and goes out.
    assert send_due(engine, cfg, at + timedelta(seconds=71)).sent == 1


@pytest.mark.parametrize("columns", ["60", "250"])
def test_alerts_list_never_cuts_the_status_on_a_narrow_console(engine, cfg, robots, monkeypatch, tmp_path, columns):
    """Whatever COLUMNS says when ``hub alerts list`` runs (not when the module was imported:
    an xdist worker imports with COLUMNS=80), every status is printed whole; the error may fold."""
    import hub_cli.alerts_cmd
    from hub_cli.main import app

    monkeypatch.setattr(hub_cli.alerts_cmd.console, "width", 80)  # as if imported in an xdist worker
    seed(engine, *[discrepancy_row(n, first_seen=now()) for n in range(2)])
    queue_now(engine, cfg)
    robots.faults.inject(1, 502, "/cgi-bin/webhook/send")
    send_due(engine, cfg)
    monkeypatch.setenv("HUB_ALERTS_FILE", str(tmp_path / "alerts.yaml"))
    monkeypatch.setenv("COLUMNS", columns)
    url = engine.url.render_as_string(hide_password=False)
    listed = CliRunner().invoke(app, ["alerts", "list", "--warehouse", url])
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if line.startswith("│") and line[1:].split("│")[0].strip()]
    statuses = sorted(line.split("│")[2].strip() for line in rows)
    assert statuses == ["pending", "sent"]  # whole, one line each
    assert "HTTP" in listed.output  # the error is there, perhaps folded
    if columns == "250":
        assert max(len(line) for line in listed.output.splitlines()) <= 250 and "HTTP 502" in listed.output
