"""Tables of the HTTP service (``hub_api``): API keys, the audit trail, connector configurations
kept encrypted at rest, and the notes people leave when they acknowledge or resolve a discrepancy.

They sit beside the pipeline's tables in the one shared ``metadata`` but are written only by the
API and the ``hub users`` / ``hub api`` commands; the pipeline never reads them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, Text

from hub_core.schema import metadata

# A bearer key is "hub_<key_id>_<secret>": the key id finds the row, the sha256 of the whole key is
# compared in constant time. Only the hash is stored; the key is shown once, when it is issued.
api_key = Table(
    "api_key",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("name", Text, nullable=False),  # who or what holds it: "li.wei", "grafana"
    Column("role", String(20), nullable=False),
    Column("employee_id", Text),  # role rep: whose customers
    Column("regions", Text),  # role region_manager: JSON list of region names
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", Text, nullable=False),  # the key's name (and key id)
    Column("action", String(40), nullable=False),  # e.g. connector.update, discrepancy.ack
    Column("target", Text, nullable=False),  # e.g. connector:crm, discrepancy:R1|crm:...
    Column("detail", Text, nullable=False),  # JSON; secrets masked before they get here
)

connector_config = Table(
    "connector_config",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("connector", String(40)),  # a built-in tap ...
    Column("command", Text),  # ... or a Singer tap command, JSON list
    Column("config_encrypted", Text, nullable=False),  # Fernet token of the config JSON
    Column("streams", Text),  # JSON list or NULL for all
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

discrepancy_note = Table(
    "discrepancy_note",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("discrepancy_id", Text, nullable=False, index=True),
    Column("action", String(20), nullable=False),  # acknowledged | resolved
    Column("comment", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
