"""The mapping configuration: tenant codes and field names, loaded from YAML."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from hub_core.settings import DEFAULT_TIMEZONE

DEFAULT_MAPPING_FILE = Path(__file__).with_name("default_mapping.yaml")


class CrmMapping(BaseModel):
    uscc_field: str = "uscc__c"
    account_level_field: str = "account_level"
    deleted_life_status: list[str] = Field(default_factory=lambda: ["invalid"])
    sales_status: dict[str, str]
    sales_stage: dict[str, str]


class MappingConfig(BaseModel):
    systems: dict[str, str]
    crm: CrmMapping
    timezone: str = DEFAULT_TIMEZONE

    def source_for(self, system: str) -> str:
        return self.systems.get(system, system)


def load_mapping(path: Path | str | None = None) -> MappingConfig:
    """Load the mapping file (default: ``HUB_MAPPING_FILE`` or the shipped defaults)."""
    path = Path(path or os.environ.get("HUB_MAPPING_FILE") or DEFAULT_MAPPING_FILE)
    return MappingConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
