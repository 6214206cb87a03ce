"""Alert routing and the outbox on SQLite and PostgreSQL: owner/region routing with mentions,
once per escalation level, escalation by age, stale-source alerts, config safety."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from hub_core.schema import discrepancy, stg_employee
from hub_core.schema_alerts import alert_outbox, alert_sent
from quality.alerts.config import AlertConfigError, load_alerts_config
from quality.alerts.routing import queue_due_alerts, queue_source_stale_alert

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

# Robot credentials of the simulators (simulators/robots.py), passed through the environment.
ENV = {"T_HQ_KEY": "sim-wecom-robot-key-1", "T_SOUTH_KEY": "sim-wecom-robot-key-2",
       "T_EAST_TOKEN": "sim-dingtalk-token-1", "T_EAST_SECRET": "SECsim-dingtalk-secret-1"}

CONFIG = """
robots:
  hq: {platform: wecom, url: "%(url)s", key: "${T_HQ_KEY}"}
  south: {platform: wecom, url: "%(url)s", key: "${T_SOUTH_KEY}"}
  east: {platform: dingtalk, url: "%(url)s", access_token: "${T_EAST_TOKEN}", secret: "${T_EAST_SECRET}"}
default_robot: hq
hq_robot: hq
regions: {华南大区: south, 华东大区: east}
levels:
  - {level: 1, severities: [red], after_days: 0, robot: region, mention: [owner]}
  - {level: 2, severities: [red, orange], after_days: 3, robot: region, mention: [owner, manager]}
  - {level: 3, severities: [red], after_days: 7, robot: hq, mention: [manager]}
delivery: {per_robot_per_minute: 20, timeout_seconds: 2, retry_base_seconds: 60, retry_max_seconds: 600}
labels:
  severity: {red: 红色, orange: 橙色}
  rules: {R1: 赢单未下单}
"""

EMPLOYEES = [
    {"employee_id": "crm:m1", "name": "王经理", "mobile": "13900000001", "region": "华南大区",
     "leader_employee_id": None, "crm_id": "m1", "u8_code": None, "wecom_userid": "wangjingli"},
    {"employee_id": "crm:r1", "name": "张三", "mobile": "13900000002", "region": "华南大区",
     "leader_employee_id": "crm:m1", "crm_id": "r1", "u8_code": None, "wecom_userid": "zhangsan"},
    {"employee_id": "crm:m2", "name": "赵经理", "mobile": "13900000003", "region": "华东大区",
     "leader_employee_id": None, "crm_id": "m2", "u8_code": None, "wecom_userid": "zhaojingli"},
    {"employee_id": "crm:r2", "name": "李四", "mobile": "13900000004", "region": "华东大区",
     "leader_employee_id": "crm:m2", "crm_id": "r2", "u8_code": None, "wecom_userid": "lisi"},
    # Two people called 王五: only the region tells them apart.
    {"employee_id": "crm:r3", "name": "王五", "mobile": "13900000005", "region": "华南大区",
     "leader_employee_id": "crm:m1", "crm_id": "r3", "u8_code": None, "wecom_userid": "wangwu_s"},
    {"employee_id": "crm:r4", "name": "王五", "mobile": "13900000006", "region": "华东大区",
     "leader_employee_id": "crm:m2", "crm_id": "r4", "u8_code": None, "wecom_userid": "wangwu_e"},
]


def write_config(tmp_path, url="http://127.0.0.1:9"):
    path = tmp_path / "alerts.yaml"
    path.write_text(CONFIG % {"url": url}, encoding="utf-8")
    return load_alerts_config(path)


def discrepancy_row(n: int, severity="red", owner="张三", region="华南大区", first_seen=NOW, **extra) -> dict:
    return {"discrepancy_id": f"R1|crm:opp:{n:03d}", "rule": "R1", "severity": severity,
            "customer_id": f"C{n:03d}", "customer_name": f"客户{n:03d}有限公司", "owner": owner,
            "region": region, "amount_cents": 12_345_600 + n, "refs": json.dumps([f"crm:opp:{n:03d}"]),
            "first_seen": first_seen, "last_seen": first_seen, "resolved_at": None, "status": "open", **extra}


def seed(engine, *rows):
    with engine.begin() as conn:
        conn.execute(insert(stg_employee), EMPLOYEES)
        if rows:
            conn.execute(insert(discrepancy), list(rows))


def queue(engine, cfg, now=NOW):
    with engine.begin() as conn:
        return queue_due_alerts(conn, cfg, now)


def outbox_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(alert_outbox).order_by(alert_outbox.c.id)).all()


def test_routed_by_region_and_mentions_the_owner(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1), discrepancy_row(2, owner="李四", region="华东大区"),
         discrepancy_row(3, owner="无名氏", region="西北大区"))
    stats = queue(engine, cfg)
    assert stats.queued == 3
    south, east, other = outbox_rows(engine)
    assert (south.robot, south.level, south.status, south.attempts) == ("south", 1, "pending", 0)
    assert "<@zhangsan>" in south.body and "<@wangjingli>" not in south.body  # level 1: the owner only
    assert json.loads(south.mentions) == {"userids": ["zhangsan"], "mobiles": []}
    assert "客户001有限公司" in south.body and "¥123,456.01" in south.body and "赢单未下单" in south.title
    assert east.robot == "east" and json.loads(east.mentions)["mobiles"] == ["13900000004"]
    assert "@13900000004" in east.body and "<font" not in east.body  # DingTalk markdown
    # Unknown region: the default robot; unknown owner: nobody mentioned rather than a guess.
    assert other.robot == "hq" and json.loads(other.mentions) == {"userids": [], "mobiles": []}


def test_same_discrepancy_same_level_is_never_alerted_twice(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1))
    assert queue(engine, cfg).queued == 1
    assert queue(engine, cfg).queued == 0
    assert queue(engine, cfg, NOW + timedelta(hours=5)).queued == 0
    assert len(outbox_rows(engine)) == 1
    with engine.connect() as conn:
        assert conn.execute(select(alert_sent.c.discrepancy_id, alert_sent.c.level)).all() == [("R1|crm:opp:001", 1)]


def test_escalation_by_age(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1), discrepancy_row(2, severity="orange"))
    assert [r.level for r in (queue(engine, cfg) and outbox_rows(engine))] == [1]  # orange waits for level 2
    assert queue(engine, cfg, NOW + timedelta(days=2, hours=23)).queued == 0
    assert queue(engine, cfg, NOW + timedelta(days=3)).queued == 2
    rows = outbox_rows(engine)
    assert [(r.subject[-3:], r.level, r.robot) for r in rows[1:]] == [("001", 2, "south"), ("002", 2, "south")]
    assert "<@zhangsan>" in rows[1].body and "<@wangjingli>" in rows[1].body  # owner and manager
    assert queue(engine, cfg, NOW + timedelta(days=7, minutes=1)).queued == 1
    top = outbox_rows(engine)[-1]
    assert (top.level, top.robot, json.loads(top.mentions)["userids"]) == (3, "hq", ["wangjingli"])
    assert queue(engine, cfg, NOW + timedelta(days=30)).queued == 0


def test_old_discrepancy_gets_only_its_highest_level(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1, first_seen=NOW - timedelta(days=10)))
    assert queue(engine, cfg).queued == 1
    [row] = outbox_rows(engine)
    assert (row.level, row.robot) == (3, "hq")
    with engine.connect() as conn:
        assert sorted(conn.execute(select(alert_sent.c.level)).scalars()) == [1, 2, 3]


def test_resolved_is_not_alerted_and_a_recurrence_is(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1), discrepancy_row(2, status="resolved", resolved_at=NOW))
    assert queue(engine, cfg).queued == 1
    later = NOW + timedelta(days=1)
    with engine.begin() as conn:  # discrepancy 1 resolved and came back: a new occurrence
        conn.execute(update(discrepancy).where(discrepancy.c.discrepancy_id == "R1|crm:opp:001")
                     .values(first_seen=later, last_seen=later))
    assert queue(engine, cfg, later).queued == 1


def test_ambiguous_owner_is_resolved_by_region(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1, owner="王五", region="华东大区"),
         discrepancy_row(2, owner="王五", region=None))
    queue(engine, cfg)
    east, hq = outbox_rows(engine)
    assert json.loads(east.mentions)["mobiles"] == ["13900000006"]
    assert json.loads(hq.mentions) == {"userids": [], "mobiles": []}


def test_stale_source_alert_goes_to_hq_once_per_period(engine, tmp_path):
    cfg = write_config(tmp_path)
    with engine.begin() as conn:
        oid = queue_source_stale_alert(conn, "u8", "sync failed: http://x/api?key=abc123&x=1", timedelta(hours=30),
                                       config=cfg, now=NOW)
        assert oid is not None
        assert queue_source_stale_alert(conn, "u8", "again", 3600, config=cfg, now=NOW + timedelta(hours=2)) is None
        assert queue_source_stale_alert(conn, "crm", "activity fell 80 %", None, config=cfg, now=NOW) is not None
        assert queue_source_stale_alert(conn, "u8", "still", 3600, config=cfg, now=NOW + timedelta(hours=25))
    rows = outbox_rows(engine)
    assert [(r.subject, r.robot, r.category) for r in rows] == [
        ("source:u8", "hq", "source_stale"), ("source:crm", "hq", "source_stale"), ("source:u8", "hq", "source_stale")]
    assert "30.0 h" in rows[0].body and "abc123" not in rows[0].body


def test_config_refuses_literal_secrets_and_unknown_robots(tmp_path):
    literal = CONFIG.replace('"${T_HQ_KEY}"', '"693a91f6-7xxx-literal-key"') % {"url": "http://x"}
    (tmp_path / "a.yaml").write_text(literal, encoding="utf-8")
    with pytest.raises(AlertConfigError) as err:
        load_alerts_config(tmp_path / "a.yaml")
    assert "ENV_NAME" in str(err.value) and "693a91f6" not in str(err.value)
    unknown = (CONFIG % {"url": "http://x"}).replace("华东大区: east", "华东大区: nowhere")
    (tmp_path / "b.yaml").write_text(unknown, encoding="utf-8")
    with pytest.raises(AlertConfigError, match="no robot named 'nowhere'"):
        load_alerts_config(tmp_path / "b.yaml")
    with pytest.raises(AlertConfigError, match="not found"):
        load_alerts_config(tmp_path / "missing.yaml")


def test_shipped_config_loads():
    cfg = load_alerts_config()
    assert cfg.default_robot in cfg.robots and [lv.level for lv in cfg.levels] == [1, 2, 3]


def test_queueing_is_set_based_for_many(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, *[discrepancy_row(n) for n in range(600)])
    assert queue(engine, cfg).queued == 600
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(alert_sent)).scalar_one() == 600
    assert queue(engine, cfg).queued == 0


def test_skipped_statuses_are_configuration(engine, tmp_path):
    cfg = write_config(tmp_path)
    seed(engine, discrepancy_row(1, status="acknowledged"))
    cfg.skip_statuses = ["resolved", "acknowledged"]
    assert queue(engine, cfg).queued == 0
    cfg.skip_statuses = ["resolved"]
    assert queue(engine, cfg).queued == 1
