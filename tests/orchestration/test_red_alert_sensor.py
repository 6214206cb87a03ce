"""The sensor alerts once on each new red discrepancy (new, or escalated to red)."""

import logging
from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy import insert, update

from hub_core.schema import discrepancy
from orchestration.resources import WarehouseResource
from orchestration.schedules import red_alert_sensor

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _item(did, severity="red", status="open"):
    return {"discrepancy_id": did, "rule": "R1", "severity": severity, "customer_id": "c1",
            "customer_name": "上海恒远机电有限公司", "owner": "王芳", "region": "华东大区", "amount_cents": 15_000_000,
            "refs": "[]", "first_seen": NOW, "last_seen": NOW, "status": status}


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_the_sensor_emits_each_new_red_item_once(engine, warehouse_url, caplog):
    sensor = red_alert_sensor()
    resources = {"warehouse": WarehouseResource(url=warehouse_url)}

    def evaluate(cursor):
        context = dg.build_sensor_context(cursor=cursor, resources=resources)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="orchestration.alerting"):
            result = sensor(context)
        alerted = sorted(r.getMessage().split()[3] for r in caplog.records if "new red discrepancy" in r.getMessage())
        return result, context.cursor, alerted

    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [_item("R1|a"), _item("R1|b", severity="orange"),
                                           _item("R1|c", status="resolved")])
    result, cursor, alerted = evaluate(None)
    assert alerted == ["R1|a"] and "1 new red" in result.skip_message

    result, cursor, alerted = evaluate(cursor)  # nothing new: nothing alerted again
    assert alerted == [] and "0 new red" in result.skip_message

    with engine.begin() as conn:  # an orange item escalates to red, and a new red one appears
        conn.execute(update(discrepancy).where(discrepancy.c.discrepancy_id == "R1|b").values(severity="red"))
        conn.execute(insert(discrepancy), [_item("R1|d")])
    result, cursor, alerted = evaluate(cursor)
    assert alerted == ["R1|b", "R1|d"]
    _, _, alerted = evaluate(cursor)
    assert alerted == []
