"""Connector configurations stored through the API, handed to the sync as ``SourceConfig``s.

The sync reads ``connectors.yaml`` today; this is the same shape from the ``connector_config``
table, decrypted only here, at the moment a tap needs its secrets. A source whose config does not
decrypt is returned with ``config_error`` set, so it fails on its own and the others still run.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from connectors.sources import SourceConfig
from hub_api.secret_box import SecretKeyError, unseal
from hub_core.schema_api import connector_config


def stored_sources(engine: Engine) -> list[SourceConfig]:
    """Every stored source, in name order, with its config decrypted (or ``config_error`` set)."""
    with engine.connect() as conn:
        rows = conn.execute(select(connector_config).order_by(connector_config.c.name)).all()
    sources = []
    for row in rows:
        config, error = {}, None
        try:
            config = unseal(row.config_encrypted, f"connector {row.name}")
        except SecretKeyError as exc:
            error = str(exc)
        sources.append(SourceConfig(name=row.name, connector=row.connector,
                                    command=json.loads(row.command) if row.command else None, config=config,
                                    streams=json.loads(row.streams) if row.streams else None,
                                    enabled=bool(row.enabled), config_error=error))
    return sources
