"""The mapping configuration: which landed source plays which system, tenant codes for the
customer records, and where the declarative stream mappings live. Loaded from YAML, strictly
(a misspelled key is an error)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from hub_core.settings import DEFAULT_TIMEZONE

DEFAULT_MAPPING_FILE = Path(__file__).with_name("default_mapping.yaml")


class CrmMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uscc_field: str = "uscc__c"
    account_level_field: str = "account_level"
    deleted_life_status: list[str] = Field(default_factory=lambda: ["invalid"])


class MappingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    systems: dict[str, str]
    crm: CrmMapping = Field(default_factory=CrmMapping)
    timezone: str = DEFAULT_TIMEZONE
    streams: Path = Path("streams")  # folder of stream mapping files, relative to this file
    customer360: Path = Path("customer360.yaml")  # customer_360 windows, signals, health, grade
    employee_overrides: Path = Path("employees.yaml")  # IT overrides for linking employees

    def source_for(self, system: str) -> str:
        return self.systems.get(system, system)

    def path(self, name: str) -> Path:
        """A configured file or folder; relative ones resolve against the shipped mappings folder
        (``load_mapping`` already made them relative to the mapping file itself)."""
        value = Path(getattr(self, name))
        return value if value.is_absolute() else DEFAULT_MAPPING_FILE.parent / value


def load_mapping(path: Path | str | None = None) -> MappingConfig:
    """Load the mapping file (default: ``HUB_MAPPING_FILE`` or the shipped defaults); relative
    paths inside it resolve against the file's folder."""
    path = Path(path or os.environ.get("HUB_MAPPING_FILE") or DEFAULT_MAPPING_FILE)
    cfg = MappingConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    base = path.resolve().parent
    for name in ("streams", "customer360", "employee_overrides"):
        value = getattr(cfg, name)
        if not value.is_absolute():
            setattr(cfg, name, base / value)
    return cfg
