"""Jobs, schedules and the red-alert sensor, timed by orchestration/schedules.yaml."""

from pathlib import Path

import dagster as dg
import yaml
from pydantic import BaseModel

from orchestration.resources import WarehouseResource

SCHEDULES_FILE = Path(__file__).with_name("schedules.yaml")


class Timing(BaseModel):
    cron: str
    running: bool = True


class SensorTiming(BaseModel):
    interval_seconds: int = 300
    running: bool = True


class SchedulesConfig(BaseModel):
    """The schedules file."""

    timezone: str = "Asia/Shanghai"
    sync: Timing = Timing(cron="0 * * * *")
    weekly_report: Timing = Timing(cron="0 8 * * 1")
    red_alerts: SensorTiming = SensorTiming()


def load_schedules(path: Path | str | None = None) -> SchedulesConfig:
    """The schedules file (default: the shipped one)."""
    return SchedulesConfig.model_validate(yaml.safe_load(Path(path or SCHEDULES_FILE).read_text(encoding="utf-8")))


def _status(running: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED


customer360_job = dg.define_asset_job(
    "customer360_job", selection=dg.AssetSelection.all(),
    description="Sync every source, build and check the unified model, publish customer_360, "
                "discrepancies and the report (critical check failures stop publishing).")

sync_job = dg.define_asset_job(
    "sync_job", selection=dg.AssetSelection.groups("raw"),
    description="Incremental sync of every source (and its freshness check).")


def hub_schedules(cfg: SchedulesConfig | None = None) -> list[dg.ScheduleDefinition]:
    """The hourly incremental sync and the weekly report."""
    cfg = cfg or load_schedules()
    return [
        dg.ScheduleDefinition(name="incremental_sync", job=sync_job, cron_schedule=cfg.sync.cron,
                              execution_timezone=cfg.timezone, default_status=_status(cfg.sync.running)),
        dg.ScheduleDefinition(name="weekly_consistency_report", job=customer360_job,
                              cron_schedule=cfg.weekly_report.cron, execution_timezone=cfg.timezone,
                              default_status=_status(cfg.weekly_report.running)),
    ]


def red_alert_sensor(cfg: SchedulesConfig | None = None) -> dg.SensorDefinition:
    """Alerts once on each red discrepancy that is new since the last evaluation."""
    cfg = cfg or load_schedules()

    @dg.sensor(name="red_discrepancy_alerts", minimum_interval_seconds=cfg.red_alerts.interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING if cfg.red_alerts.running
               else dg.DefaultSensorStatus.STOPPED,
               description="Alerts on new red discrepancies (through quality.alerts when installed).")
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        from orchestration.alerting import alert_red_items, new_red_items

        engine = warehouse.get_engine()
        items, cursor = new_red_items(engine, context.cursor)
        how = alert_red_items(engine, items)
        context.update_cursor(cursor)
        if items:
            context.log.info(f"{len(items)} new red discrepancy(ies): {how}")
        return dg.SkipReason(f"{len(items)} new red discrepancy(ies): {how}")

    return _sensor
