"""The hub's HTTP service for IT and dashboards: ``hub serve`` (or ``create_app(url)`` in code).

Every data endpoint needs a bearer API key (``hub users add``); what a key sees is scoped in SQL
by its role (``roles.yaml``). The app serves an existing, migrated warehouse and refuses to start
otherwise. ``build_app`` assembles the routes without a database, for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from fastapi import FastAPI
from sqlalchemy import Engine, text

from hub_api import errors
from hub_api.deps import Conn

API_VERSION = "1.0.0"


def build_app(engine: Callable[[], Engine]) -> FastAPI:
    """The app over whatever warehouse ``engine()`` returns (called per request)."""
    from hub_api import (
        routes_admin,
        routes_connectors,
        routes_customers,
        routes_data,
        routes_finance,
        routes_quality,
        routes_reports,
    )

    api = FastAPI(title="Customer-360 hub", version=API_VERSION,
                  description="Customers (the 360 view), discrepancies, finance records, reports, data quality and runs "
                              "of the integration hub, scoped by API key; connector configuration and the "
                              "audit trail for IT.")
    api.state.engine = engine
    errors.install(api)

    @api.get("/health", tags=["service"])
    def health(conn: Conn) -> dict[str, str]:
        """Liveness: the warehouse answers. Needs no key and says nothing about the data."""
        conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    api.include_router(routes_customers.router)
    api.include_router(routes_data.router)
    api.include_router(routes_finance.router)
    api.include_router(routes_reports.router)
    api.include_router(routes_quality.router)
    api.include_router(routes_connectors.router)
    api.include_router(routes_admin.router)
    return api


def create_app(warehouse_url: str | None = None) -> FastAPI:
    """The app over an existing warehouse (default ``HUB_WAREHOUSE_URL``); ``WarehouseNotReady``
    when it is missing or not migrated."""
    from hub_api.readiness import open_existing_warehouse
    from hub_core.settings import get_settings

    engine = open_existing_warehouse(warehouse_url or get_settings().warehouse_url)
    return build_app(lambda: engine)


@lru_cache(maxsize=1)
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str):
    # ``uvicorn hub_api.app:app`` builds the app on first access, from the environment,
    # so importing this module never touches a database.
    if name == "app":
        return _default_app()
    raise AttributeError(name)
