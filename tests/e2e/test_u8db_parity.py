"""U8 database mode = U8 OpenAPI mode: on one world, tap-u8db (reading U8's tables) lands the same
raw records as tap-u8 (reading the OpenAPI simulator), and the unified customers and R1 findings
built from either are the same - on SQLite and PostgreSQL, for the warehouse and the U8 database.
"""

from __future__ import annotations

import decimal
import json
import re
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.schema import raw_record
from hub_core.warehouse import open_warehouse
from mappings.build import build_customer360
from mappings.config import load_mapping
from quality.reconcile import reconcile
from quality.report import customer_crosswalk, open_discrepancies
from simulators.generator import generate
from simulators.server import SimulatorServer
from simulators.u8db import bump, write_world

# taps forked warm (tests/conftest.py): ~6 tap start-ups a test
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
U8_STREAMS = ("person", "customer", "saleorderlist", "consignmentlist", "saleinvoicelist",
              "oughtreceivelist", "acceptlist", "inventory", "currentstock")


@pytest.fixture
def u8_database_url(warehouse_url):
    """A database for U8's tables on the same backend as the warehouse (own file / own schema)."""
    if warehouse_url.startswith("sqlite"):
        yield warehouse_url.replace("warehouse.db", "u8.db")
        return
    schema = f"u8_{uuid.uuid4().hex[:10]}"
    admin = create_engine(warehouse_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    from sqlalchemy.engine import make_url

    url = make_url(warehouse_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def normalized(value):
    """Numbers and numeric strings compare by value (the OpenAPI sends "146.00", the database 146)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("number", decimal.Decimal(str(value)).normalize())
    if isinstance(value, str) and _NUMERIC.match(value):
        return ("number", decimal.Decimal(value).normalize())
    return value


def current_raw(engine, source: str) -> dict[str, dict[str, dict]]:
    r = raw_record.c
    found: dict[str, dict[str, dict]] = {}
    with engine.connect() as conn:
        for stream, key, data in conn.execute(
            select(r.stream, r.record_key, r.data).where(r.source == source, r.is_current)
        ):
            found.setdefault(stream, {})[key] = normalized(json.loads(data))
    return found


def unified_result(engine, mapping, as_of) -> tuple[list, set]:
    build_customer360(engine, mapping)
    reconcile(engine, as_of=as_of)
    customers = sorted(sorted(c["refs"]) for c in customer_crosswalk(engine))
    r1 = {(i["refs"][0], i["severity"], i["amount_cny"]) for i in open_discrepancies(engine) if i["rule"] == "R1"}
    return customers, r1


def test_database_mode_lands_what_the_openapi_lands(warehouse_url, u8_database_url, monkeypatch):
    world, truth = generate(7, customers=60)
    report = write_world(world, u8_database_url)
    assert report.unmapped == {}  # every field of the world has its column
    engine = open_warehouse(warehouse_url)
    try:
        with SimulatorServer(world) as server:
            sources, secrets = demo_sources(server.urls)
            for name, value in secrets.items():
                monkeypatch.setenv(name, value)
            sources["sources"]["u8_db"] = {"connector": "u8db", "config": {"sqlalchemy_url": u8_database_url}}
            for source in parse_sources(sources):
                result = sync_source(engine, source)
                assert result.status == "succeeded", (source.name, result.error)
            as_of = server.world.now

        api, db = current_raw(engine, "u8"), current_raw(engine, "u8_db")
        for stream in U8_STREAMS:
            assert set(db.get(stream, {})) == set(api.get(stream, {})), stream
            assert db.get(stream) == api.get(stream), stream
        assert sum(len(v) for v in db.values()) == sum(len(world["u8"][s]) for s in U8_STREAMS)

        mapping = load_mapping()
        via_api = unified_result(engine, mapping, as_of)
        via_db = unified_result(engine, mapping.model_copy(update={"systems": {**mapping.systems, "u8": "u8_db"}}),
                                as_of)
        assert via_db == via_api
        expected_r1 = {(i["refs"][0], i["severity"], i["amount_cny"]) for i in truth["discrepancies"]
                       if i["rule"] == "R1"}
        assert via_db[1] == expected_r1 and expected_r1

        # Incremental: N rows changed in U8 -> exactly N land (the rest is not even read again,
        # but for the row saved in the bookmark's own second, which the loader drops by hash).
        # (orders not already Closed: closing a closed order changes nothing, and nothing lands)
        orders = [o["code"] for o in world["u8"]["saleorderlist"] if o.get("state") != "Closed"][:3]
        assert len(orders) == 3
        assert bump(u8_database_url, "saleorderlist", orders, {"state": "Closed"}) == 3
        assert bump(u8_database_url, "customer", [world["u8"]["customer"][5]["code"]], {"name": "改名有限公司"}) == 1
        (db_source,) = [s for s in parse_sources(sources) if s.name == "u8_db"]
        again = sync_source(engine, db_source)
        assert again.status == "succeeded", again.error
        assert again.landed == 4  # Person is read whole, but unchanged: nothing lands
        landed = {k: v["landed"] for k, v in (again.per_stream or {}).items() if v["landed"]}
        assert landed == {"saleorderlist": 3, "customer": 1}
    finally:
        engine.dispose()
