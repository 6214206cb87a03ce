"""Hub-wide settings, read from the environment (prefix ``HUB_``) or passed explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The business calendar of the spec: date-only fields and "N days" are Asia/Shanghai days.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Stale-source protection: a source whose data falls by more than this share is an outage, not a
# purge (quality StalenessConfig.max_drop; the landing withholds such deletions, connectors/landing_deletes.py).
DEFAULT_MAX_DROP = 0.5
# The sync_run statuses whose data landed: ``partial`` finished too, with some records set aside in
# the quarantine. Freshness, staleness, exit codes and summaries all count these as a good sync.
LANDED_STATUSES = ("succeeded", "partial")


class HubSettings(BaseSettings):
    """Where the warehouse lives and where the hub keeps its working files."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    warehouse_url: str = Field(
        default="sqlite:///hub-data/warehouse.db",
        description="SQLAlchemy URL of the warehouse; SQLite by default, PostgreSQL in production.",
    )
    connectors_file: Path = Field(
        default=Path("connectors.yaml"),
        description="YAML file that configures the connectors (sources) to sync.",
    )
    log_dir: Path = Field(
        default=Path("hub-data/logs"),
        description="Folder of the rotating log file hub.log (full error traces live there, not on the console).",
    )


def get_settings(**overrides) -> HubSettings:
    """Settings from the environment, with explicit overrides winning."""
    return HubSettings(**{k: v for k, v in overrides.items() if v is not None})
