"""tap-u8db: Yonyou U8 read from its database (SQLAlchemy), in tap-u8's OpenAPI record shapes.

Same stream names, keys and record shapes as tap-u8 (customer, saleorderlist with ``entry``
lines, consignmentlist, saleinvoicelist, oughtreceivelist, acceptlist, inventory, currentstock,
person), so the hub's mappings need no change when a tenant switches from the OpenAPI to a
read-only database login. The table/column translation is data: ``tables.yaml``.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

import sqlalchemy as sa
from singer_sdk import Tap
from singer_sdk import typing as th

from connectors.kit.writer import BatchedOutput
from connectors.tap_u8db.catalog import load_catalog
from connectors.tap_u8db.streams import U8DBStream
from connectors.tap_u8db.tables import build_tables

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

TRACKING_MODES = ("auto", "rowversion", "modified", "full")


class U8DBConnectionError(RuntimeError):
    """The U8 database does not answer (wrong host, login, database name or driver)."""


class DatabaseCheck:
    """``hub connectors check`` protocol (a ``token_cache_factory(config).get()``): one ``SELECT 1``."""

    def __init__(self, config: dict) -> None:
        self.config = config

    def get(self) -> None:
        """Connect and run one trivial query; :class:`U8DBConnectionError` when that fails."""
        tap = TapU8DB(config=dict(self.config), parse_env_config=False, setup_mapper=False)
        try:
            with tap.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            tap.engine.dispose()


class TapU8DB(BatchedOutput, Tap):
    """U8 database tap: incremental on rowversion or modification time, FULL_TABLE otherwise."""

    name = "tap-u8db"
    #: What ``hub connectors check`` calls (the REST taps' token call; here a connection).
    token_cache_factory = DatabaseCheck

    config_jsonschema = th.PropertiesList(
        th.Property(
            "sqlalchemy_url", th.StringType, required=True, secret=True,
            description="SQLAlchemy URL of the U8 account database (a read-only login), "
            "e.g. mssql+pyodbc://hub:***@u8-host/UFDATA_001_2026?driver=ODBC+Driver+18+for+SQL+Server.",
        ),
        th.Property("db_schema", th.StringType, description="Schema of the U8 tables (e.g. dbo); default: the login's."),
        th.Property(
            "change_tracking", th.StringType(allowed_values=list(TRACKING_MODES)), default="auto",
            description="auto: rowversion on SQL Server, the modification time elsewhere; "
            "rowversion / modified: prefer that one; full: read every table whole.",
        ),
        th.Property("streams", th.ArrayType(th.StringType), description="Streams to read (default: all)."),
        th.Property("tables_file", th.StringType, description="A tables YAML replacing the shipped one."),
        th.Property(
            "batch_size", th.IntegerType(minimum=1, maximum=2000), default=500,
            description="Header rows per fetch (their lines come in one IN (...) query: SQL Server allows 2100 parameters).",
        ),
    ).to_dict()

    @cached_property
    def catalogue(self) -> dict:
        """The stream -> table specs (``tables.yaml``)."""
        return load_catalog(self.config.get("tables_file"))

    @cached_property
    def engine(self) -> sa.Engine:
        """One engine (pool) for every stream of this run."""
        return sa.create_engine(self.config["sqlalchemy_url"], pool_pre_ping=True)

    def connect(self) -> sa.Connection:
        """A connection, or one clear line (URL without its password) when the database does not answer."""
        try:
            return self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            where = sa.engine.make_url(self.config["sqlalchemy_url"]).render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            password = sa.engine.make_url(self.config["sqlalchemy_url"]).password
            if password:
                reason = reason.replace(str(password), "***")
            msg = f"tap-u8db: cannot connect to the U8 database {where}: {reason}"
            raise U8DBConnectionError(msg) from None

    @property
    def backend(self) -> str:
        """The database kind of the URL (mssql, postgresql, sqlite, ...), known without connecting."""
        return sa.engine.make_url(self.config["sqlalchemy_url"]).get_backend_name()

    @property
    def tracking_mode(self) -> str:
        """The effective mode: ``auto`` picks rowversion on SQL Server only (elsewhere there is
        no rowversion type, so the modification time is the portable mark)."""
        mode = self.config.get("change_tracking") or "auto"
        if mode != "auto":
            return mode
        return "rowversion" if self.backend == "mssql" else "modified"

    def discover_streams(self) -> list[Stream]:
        catalogue = self.catalogue
        wanted = list(dict.fromkeys(self.config.get("streams") or catalogue))
        unknown = [s for s in wanted if s not in catalogue]
        if unknown:
            msg = f"tap-u8db: unknown streams {unknown}; the tables file defines {list(catalogue)}"
            raise ValueError(msg)
        tables = build_tables(catalogue, schema=self.config.get("db_schema"))
        return [U8DBStream(self, catalogue[name], tables[name], self.tracking_mode) for name in wanted]


if __name__ == "__main__":
    TapU8DB.cli()
