"""Dagster resources: the warehouse, the configured sources and the output folder, behind small
interfaces, with a local and a production variant chosen by ``HUB_ENV``.

- local (default): the warehouse is ``HUB_WAREHOUSE_URL`` or the SQLite file of the settings;
  results go to ``HUB_OUTPUT_DIR`` (default ``hub-report``).
- production (``HUB_ENV=production``): ``HUB_WAREHOUSE_URL`` must name a PostgreSQL database and
  ``HUB_OUTPUT_DIR`` must be set; a missing or wrong value is one clear error at load time.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from sqlalchemy import Engine

from connectors.sources import SourceConfig, load_sources
from hub_core.warehouse import open_warehouse

ENVIRONMENTS = ("local", "production")


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse by SQLAlchemy URL: a SQLite file locally, PostgreSQL in production."""

    url: str

    def get_engine(self) -> Engine:
        # One engine (and one migration check) per URL per process.
        if self.url not in _engines:
            _engines[self.url] = _open_serialized(self.url)
        return _engines[self.url]


_engines: dict[str, Engine] = {}
_MIGRATION_LOCK = 360_360_001  # the PostgreSQL advisory lock key of "migrating the warehouse"


def _open_serialized(url: str) -> Engine:
    """Open (and migrate) the warehouse. The multiprocess executor starts several workers at
    once, each opening the warehouse: on PostgreSQL an advisory lock lets the first one migrate
    while the others wait, instead of racing to create the same tables."""
    if not url.startswith("postgresql"):
        return open_warehouse(url)
    from sqlalchemy import text

    from hub_core.warehouse import make_engine

    locker = make_engine(url)
    try:
        with locker.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                return open_warehouse(url)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
    finally:
        locker.dispose()


class SourcesResource(dg.ConfigurableResource):
    """The sources file (YAML, see connectors/sources.py); secrets come from the environment."""

    path: str

    def all(self) -> list[SourceConfig]:
        return load_sources(Path(self.path))

    def get(self, name: str) -> SourceConfig:
        for source in self.all():
            if source.name == name:
                return source
        raise dg.Failure(f"source {name!r} is not configured in {self.path}")


class OutputResource(dg.ConfigurableResource):
    """The folder the published results (report, JSON exports) are written to."""

    path: str = "hub-report"

    def folder(self) -> Path:
        return Path(self.path)


class ResourceConfigError(ValueError):
    """The environment does not describe a usable deployment (one line, no secrets)."""


def hub_env() -> str:
    """``HUB_ENV`` (local | production), local when unset."""
    env = (os.environ.get("HUB_ENV") or "local").strip().lower()
    if env not in ENVIRONMENTS:
        raise ResourceConfigError(f"HUB_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}")
    return env


def hub_resources(warehouse_url: str | None = None, connectors_file: str | None = None,
                  out_dir: str | None = None, env: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources of the environment; explicit arguments win over the environment variables."""
    from hub_core.settings import get_settings

    env = env or hub_env()
    settings = get_settings(warehouse_url=warehouse_url, connectors_file=connectors_file)
    out = out_dir or os.environ.get("HUB_OUTPUT_DIR")
    if env == "production":
        if not settings.warehouse_url.startswith("postgresql"):
            raise ResourceConfigError("HUB_ENV=production needs HUB_WAREHOUSE_URL to be a postgresql:// URL")
        if not out:
            raise ResourceConfigError("HUB_ENV=production needs HUB_OUTPUT_DIR (where reports are published)")
    return {
        "warehouse": WarehouseResource(url=settings.warehouse_url),
        "sources": SourcesResource(path=str(settings.connectors_file)),
        "output": OutputResource(path=out or "hub-report"),
    }
