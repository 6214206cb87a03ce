"""Dagster resources: the warehouse and the configured sources, behind small interfaces."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from sqlalchemy import Engine

from connectors.sources import SourceConfig, load_sources
from hub_core.warehouse import open_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse by SQLAlchemy URL: a SQLite file locally, PostgreSQL in production."""

    url: str

    def get_engine(self) -> Engine:
        # One engine (and one migration check) per URL per process.
        if self.url not in _engines:
            _engines[self.url] = open_warehouse(self.url)
        return _engines[self.url]


_engines: dict[str, Engine] = {}


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
