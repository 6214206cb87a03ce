"""The sensor alerts once on each new red discrepancy (new, or escalated to red): one log line per
item, and one outbox message per item routed per alerts.yaml; a missing alerts file or robot
credential is one clear error line."""

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import insert, select, update

from hub_core.schema import discrepancy
from hub_core.schema_alerts import alert_outbox
from orchestration.resources import WarehouseResource
from orchestration.schedules import red_alert_sensor

NOW = datetime.now(UTC) - timedelta(minutes=5)  # young items: only level 1 (red, after 0 days) is due
EAST_ENV = ("HUB_ALERT_EAST_DINGTALK_TOKEN", "HUB_ALERT_EAST_DINGTALK_SECRET")


def _item(did, severity="red", status="open"):
    return {"discrepancy_id": did, "rule": "R1", "severity": severity, "customer_id": "c1",
            "customer_name": "上海恒远机电有限公司", "owner": "王芳", "region": "华东大区", "amount_cents": 15_000_000,
            "refs": "[]", "first_seen": NOW, "last_seen": NOW, "status": status}


def _sensor_run(warehouse_url, caplog):
    sensor = red_alert_sensor()
    resources = {"warehouse": WarehouseResource(url=warehouse_url)}

    def evaluate(cursor):
        context = dg.build_sensor_context(cursor=cursor, resources=resources)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="orchestration.alerting"):
            result = sensor(context)
        alerted = sorted(r.getMessage().split()[3] for r in caplog.records if "new red discrepancy" in r.getMessage())
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        return result, context.cursor, alerted, errors

    return evaluate


def _outbox(engine):
    o = alert_outbox.c
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(o.subject, o.robot, o.level, o.status)))


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_the_sensor_emits_each_new_red_item_once(engine, warehouse_url, caplog, monkeypatch):
    monkeypatch.delenv("HUB_ALERTS_FILE", raising=False)  # the shipped quality/alerts.yaml
    for var in EAST_ENV:
        monkeypatch.setenv(var, "test-credential")
    evaluate = _sensor_run(warehouse_url, caplog)
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [_item("R1|a"), _item("R1|b", severity="orange"),
                                           _item("R1|c", status="resolved")])
    result, cursor, alerted, errors = evaluate(None)
    assert alerted == ["R1|a"] and "1 new red" in result.skip_message and "queued 1 alert" in result.skip_message
    assert _outbox(engine) == [("R1|a", "east", 1, "pending")] and errors == []  # 华东大区 -> east robot

    result, cursor, alerted, errors = evaluate(cursor)  # nothing new: nothing alerted or queued again
    assert alerted == [] and "0 new red" in result.skip_message and len(_outbox(engine)) == 1

    with engine.begin() as conn:  # an orange item escalates to red, and a new red one appears
        conn.execute(update(discrepancy).where(discrepancy.c.discrepancy_id == "R1|b").values(severity="red"))
        conn.execute(insert(discrepancy), [_item("R1|d")])
    result, cursor, alerted, errors = evaluate(cursor)
    assert alerted == ["R1|b", "R1|d"]
    assert [row[0] for row in _outbox(engine)] == ["R1|a", "R1|b", "R1|d"]
    _, _, alerted, _ = evaluate(cursor)
    assert alerted == [] and len(_outbox(engine)) == 3


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_missing_alerts_file_or_credentials_is_one_clear_error_line(engine, warehouse_url, caplog, monkeypatch,
                                                                   tmp_path):
    for var in EAST_ENV:
        monkeypatch.delenv(var, raising=False)
    evaluate = _sensor_run(warehouse_url, caplog)
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [_item("R1|a")])

    monkeypatch.setenv("HUB_ALERTS_FILE", str(tmp_path / "nowhere.yaml"))
    result, cursor, alerted, errors = evaluate(None)
    assert alerted == ["R1|a"] and "alerts not configured" in result.skip_message and _outbox(engine) == []
    assert len(errors) == 1 and "red alerts not queued" in errors[0] and "nowhere.yaml not found" in errors[0]

    monkeypatch.delenv("HUB_ALERTS_FILE")  # the file is back, the robot's variables are not set
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [_item("R1|e")])
    result, cursor, alerted, errors = evaluate(cursor)
    assert alerted == ["R1|e"] and [row[0] for row in _outbox(engine)] == ["R1|a", "R1|e"]  # R1|a is not lost
    assert errors == ["2 alert(s) queued for robot east cannot be posted: "
                      "robot east: environment variable HUB_ALERT_EAST_DINGTALK_TOKEN is not set"]
