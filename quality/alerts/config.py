"""Alert configuration (``quality/alerts.yaml``): robots, routing by region, escalation levels,
delivery limits and message labels.

Robot credentials (WeCom ``key``, DingTalk ``access_token`` and ``secret``) must be written as
``${ENV_NAME}`` references: a literal value is refused at load time, so a secret never sits in a
file that gets committed. References resolve only when a message is posted (:func:`resolve`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

DEFAULT_ALERTS_FILE = Path(__file__).resolve().parent.parent / "alerts.yaml"
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
SECRET_FIELDS = ("key", "access_token", "secret")


class AlertConfigError(ValueError):
    """The alerts file is missing or invalid, or a robot's secret variable is not set (one line)."""


class RobotConfig(BaseModel):
    """One group robot. Credentials are ``${ENV}`` references (validated)."""

    platform: Literal["wecom", "dingtalk"]
    url: str
    key: str | None = None
    access_token: str | None = None
    secret: str | None = None

    @model_validator(mode="after")
    def _references_only(self) -> RobotConfig:
        needed = ("key",) if self.platform == "wecom" else ("access_token", "secret")
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.platform} robot needs {name}")
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and not _ENV_REF.match(value):
                raise ValueError(f"{name} must be an ${{ENV_NAME}} reference, not a literal value")
        return self


class LevelConfig(BaseModel):
    """One escalation level: which severities, from what age, to which robot, mentioning whom."""

    level: int = Field(ge=1)
    severities: list[str]
    after_days: float = Field(ge=0)
    robot: Literal["region", "hq"] = "region"
    mention: list[Literal["owner", "manager"]] = ["owner"]


class DeliveryConfig(BaseModel):
    """Vendor limits and retry behaviour."""

    per_robot_per_minute: int = Field(20, ge=1)
    timeout_seconds: float = Field(10, gt=0)
    retry_base_seconds: float = Field(60, ge=0)
    retry_max_seconds: float = Field(3600, ge=0)
    max_bytes: dict[str, int] = {"wecom": 4096, "dingtalk": 4096}
    rate_limit_errcodes: list[int] = [45009, 130101]


class SourceStaleConfig(BaseModel):
    """How often one source's stale alert may repeat."""

    repeat_hours: float = Field(24, ge=0)


class Labels(BaseModel):
    """Words of the messages (config, so they can be translated or reworded)."""

    severity: dict[str, str] = {}
    color: dict[str, str] = {}
    rules: dict[str, str] = {}
    fields: dict[str, str] = {"customer": "customer", "amount": "amount", "owner": "owner",
                              "first_seen": "first seen", "days": "days", "id": "id", "reason": "reason",
                              "age": "stale for"}
    level: str = "level {level}"
    digest_title: str = "{count} alerts"
    stale_title: str = "source {source} is stale"


class AlertsConfig(BaseModel):
    """The whole alerts file."""

    robots: dict[str, RobotConfig]
    default_robot: str
    hq_robot: str
    regions: dict[str, str] = {}
    levels: list[LevelConfig]
    skip_statuses: list[str] = ["resolved"]
    delivery: DeliveryConfig = DeliveryConfig()
    source_stale: SourceStaleConfig = SourceStaleConfig()
    labels: Labels = Labels()

    @model_validator(mode="after")
    def _known_robots(self) -> AlertsConfig:
        used = {"default_robot": self.default_robot, "hq_robot": self.hq_robot,
                **{f"regions.{r}": name for r, name in self.regions.items()}}
        for where, name in used.items():
            if name not in self.robots:
                raise ValueError(f"{where}: no robot named {name!r}")
        numbers = [lv.level for lv in self.levels]
        if numbers != sorted(set(numbers)):
            raise ValueError("levels must have distinct numbers in ascending order")
        return self

    def secret_values(self) -> list[str]:
        """The current values of every robot credential variable that is set: text from
        elsewhere (a stale-source reason, an error) is masked against them before it is stored."""
        names = {_ENV_REF.match(ref).group(1) for robot in self.robots.values()
                 for ref in (robot.key, robot.access_token, robot.secret) if ref}
        return [os.environ[n] for n in sorted(names) if os.environ.get(n)]

    def region_robot(self, region: str | None) -> str:
        """The robot of a region (the default robot for none or an unknown one)."""
        return self.regions.get(region or "", self.default_robot)


def load_alerts_config(path: Path | str | None = None) -> AlertsConfig:
    """Load the alerts file (default: ``HUB_ALERTS_FILE`` or ``quality/alerts.yaml``)."""
    path = Path(path or os.environ.get("HUB_ALERTS_FILE") or DEFAULT_ALERTS_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise AlertConfigError(f"alerts file {path} not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise AlertConfigError(f"alerts file {path}: {str(exc).splitlines()[0]}") from None
    try:
        return AlertsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        # The message names the field, never its value (it could be a pasted secret).
        raise AlertConfigError(f"alerts file {path}: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class RobotSecrets:
    """A robot's resolved credentials: handed to the HTTP call and nowhere else."""

    key: str | None
    access_token: str | None
    secret: str | None

    def values(self) -> list[str]:
        """Every non-empty secret value (for redaction)."""
        return [v for v in (self.key, self.access_token, self.secret) if v]

    def __repr__(self) -> str:  # never print the values
        return "RobotSecrets(***)"


def resolve(name: str, robot: RobotConfig) -> RobotSecrets:
    """Look up a robot's ``${ENV}`` credentials; an unset or empty variable is one clear error."""
    values: dict[str, str | None] = {}
    for field in SECRET_FIELDS:
        ref = getattr(robot, field)
        if ref is None:
            values[field] = None
            continue
        var = _ENV_REF.match(ref).group(1)
        value = os.environ.get(var)
        if not value:
            raise AlertConfigError(f"robot {name}: environment variable {var} is not set")
        values[field] = value
    return RobotSecrets(**values)
