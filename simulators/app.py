"""All simulators in one ASGI app: ``/crm``, ``/u8``, ``/finance``, ``/wecom``.

Test hooks on the combined app: ``app.state.sims[system]`` is each system's
:class:`~simulators.common.SimState` (tokens, faults, call counts) and
``app.state.expire_tokens()`` expires every issued token of every system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from simulators import crm, finance, robots, u8, wecom
from simulators.common import RateRule
from simulators.world import World, as_world

SYSTEMS = ("crm", "u8", "finance", "wecom")


def create_app(
    world: World | dict[str, Any] | str | Path,
    *,
    token_ttl: float = 7200,
    message_retention_days: float | None = None,
    enforce_rate_limits: bool = False,
    rate_limits: dict[str, list[RateRule]] | None = None,
) -> FastAPI:
    """Mount the four system simulators over one world.

    ``enforce_rate_limits`` turns on every system's call budget (CRM: the real Fenxiang
    numbers; U8, finance, WeCom: see each module); they are off by default so demos never trip
    them. ``rate_limits`` (system -> rules) enforces other budgets for the systems it names,
    e.g. small windows in tests.
    """
    world = as_world(world)
    limits = rate_limits or {}
    unknown = set(limits) - set(SYSTEMS)
    if unknown:
        raise ValueError(f"rate_limits for unknown systems {sorted(unknown)}; known: {SYSTEMS}")

    def budget(name: str) -> dict[str, Any]:
        return {"enforce_rate_limits": enforce_rate_limits, "rate_limits": limits.get(name)}

    apps = {
        "crm": crm.create_app(world, token_ttl=token_ttl, **budget("crm")),
        "u8": u8.create_app(world, token_ttl=token_ttl, **budget("u8")),
        "finance": finance.create_app(world, token_ttl=token_ttl, **budget("finance")),
        "wecom": wecom.create_app(
            world, token_ttl=token_ttl, message_retention_days=message_retention_days,
            **budget("wecom"),
        ),
    }
    app = FastAPI(title="Customer-360 source-system simulators")
    app.state.world = world
    app.state.sims = {name: sub.state.sim for name, sub in apps.items()}

    def expire_tokens() -> None:
        for sim in app.state.sims.values():
            sim.expire_tokens()

    app.state.expire_tokens = expire_tokens

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "world": world.source, "systems": list(SYSTEMS)}

    for name, sub in apps.items():
        app.mount(f"/{name}", sub)
    app.mount("/robots", robot_app := robots.create_app())  # alert robots (WeCom + DingTalk)
    app.state.robots = robot_app.state.sim  # their test hooks: simulators/robots.py
    return app
