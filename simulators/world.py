"""World files: the native-shape records every simulator serves.

A world is a JSON object with the sections ``meta``, ``crm``, ``u8``, ``finance`` and ``wecom``
(see shared/spec/world-and-results.md). Each section other than ``meta`` maps an object or
resource name to a list of records. Missing sections and objects read as empty.

The simulators keep a reference to one :class:`World` and read ``world.data`` on every request,
so tests can mutate records (or swap the whole world with :meth:`World.replace`) between syncs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Naive times in a world are Asia/Shanghai wall-clock times; a fixed offset avoids a tzdata
# dependency (China has no daylight saving time).
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# Objects every world has, even when the file leaves them out: an empty object is still a
# known object (a CRM query on it returns no rows instead of "unknown object").
DEFAULT_OBJECTS: dict[str, tuple[str, ...]] = {
    "crm": (
        "PersonnelObj", "AccountObj", "ContactObj", "LeadsObj", "NewOpportunityObj",
        "SalesOrderObj", "SalesOrderProductObj", "ContractObj", "PaymentObj", "ActiveRecordObj",
    ),
    "u8": (
        "person", "customer", "saleorderlist", "consignmentlist", "saleinvoicelist",
        "oughtreceivelist", "acceptlist", "inventory", "currentstock",
    ),
    "finance": ("credit_rating",),
    "wecom": ("follow_users", "external_contacts", "messages"),
}
SECTIONS = tuple(DEFAULT_OBJECTS)

Records = list[dict[str, Any]]


class WorldError(ValueError):
    """A world file or dict that does not have the world structure."""


class _WorldShape(BaseModel):
    """Top-level structure only: record contents are each system's business."""

    model_config = ConfigDict(extra="allow")

    meta: dict[str, Any] = Field(default_factory=dict)
    crm: dict[str, Records] = Field(default_factory=dict)
    u8: dict[str, Records] = Field(default_factory=dict)
    finance: dict[str, Records] = Field(default_factory=dict)
    wecom: dict[str, Records] = Field(default_factory=dict)


def parse_time(value: str) -> datetime:
    """Parse an ISO date or date-time; naive values are Asia/Shanghai."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


class World:
    """A loaded world: ``data`` is the plain JSON dict, mutable in place."""

    def __init__(self, data: Any, source: str = "<dict>", validate: bool = True) -> None:
        """``validate=False``: the caller vouches for the structure (a compact world, whose
        objects are not lists: ``simulators/compact.py``); ``meta.now`` is checked either way."""
        if validate:
            _validate(data, source)
        else:
            _check_now(data, source)
        self.source = source
        self.data: dict[str, Any] = data
        for section in SECTIONS:
            data.setdefault(section, {})
        data.setdefault("meta", {})

    @property
    def meta(self) -> dict[str, Any]:
        return self.data.setdefault("meta", {})

    @property
    def now(self) -> datetime:
        """The world's clock (``meta.now``), or the current time when the world has none."""
        value = self.meta.get("now")
        if not value:
            return datetime.now(SHANGHAI)
        return parse_time(value)

    def records(self, section: str, name: str) -> Records:
        """The live record list of one object (empty when absent)."""
        return self.data.get(section, {}).get(name) or []

    def names(self, section: str) -> list[str]:
        """Known object names of a section: the defaults plus whatever the world adds."""
        extra = [n for n in self.data.get(section, {}) if n not in DEFAULT_OBJECTS[section]]
        return [*DEFAULT_OBJECTS[section], *extra]

    def replace(self, other: World | dict[str, Any]) -> None:
        """Swap in another world's data; servers holding this object see it on the next call."""
        new = other if isinstance(other, World) else World(other)
        self.data = new.data
        self.source = new.source

    def __repr__(self) -> str:
        counts = {s: sum(len(v) for v in self.data.get(s, {}).values()) for s in SECTIONS}
        return f"World({self.source!r}, {counts})"


def _validate(data: Any, source: str) -> None:
    if not isinstance(data, dict):
        raise WorldError(f"{source}: the world must be a JSON object, got {type(data).__name__}")
    try:
        _WorldShape.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        ]
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise WorldError(f"{source}: bad world structure: {'; '.join(problems)}{more}") from None
    _check_now(data, source)


def _check_now(data: dict, source: str) -> None:
    now = data.get("meta", {}).get("now")
    if now is not None:
        try:
            if not isinstance(now, str):
                raise TypeError
            parse_time(now)
        except (TypeError, ValueError):
            raise WorldError(f"{source}: meta.now must be an ISO date-time, got {now!r}") from None


def load_world(path: str | Path) -> World:
    """Read and validate a world file (UTF-8 JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorldError(f"{path}: world file not found") from None
    except UnicodeDecodeError as exc:
        raise WorldError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise WorldError(f"{path}: cannot read world file ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorldError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return World(data, source=str(path))


def as_world(world: World | dict[str, Any] | str | Path) -> World:
    """Accept a World, a world dict or a world file path."""
    if isinstance(world, World):
        return world
    if isinstance(world, dict):
        return World(world)
    return load_world(world)
