"""tap-u8db against a U8-shaped SQLite database written from a world: standard suite + behaviour."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class

from connectors.tap_u8db.catalog import CatalogError, load_catalog
from connectors.tap_u8db.tap import TapU8DB
from simulators.generator import generate
from simulators.u8db import U8DBWriteError, bump, write_world
from tests.connectors import helpers
from tests.e2e.worlds import handmade_world


def small_world() -> dict:
    world, _ = generate(3, customers=12)
    return world


STANDARD_CONFIG = {"sqlalchemy_url": "sqlite:///placeholder-set-by-the-fixture.db", "batch_size": 7}


class TestTapU8DBStandard(get_tap_test_class(TapU8DB, config=STANDARD_CONFIG)):  # type: ignore[misc]
    """singer-sdk's standard tap tests on a generated U8 database."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def u8_database(cls, tmp_path_factory):
        url = f"sqlite:///{tmp_path_factory.mktemp('tap-u8db-standard') / 'u8.db'}"
        write_world(small_world(), url)
        STANDARD_CONFIG["sqlalchemy_url"] = url  # the runner holds this very dict


def run(url: str, state: dict | None = None, **config: object) -> helpers.SyncResult:
    return helpers.sync_tap(TapU8DB, {"sqlalchemy_url": url, **config}, state)


@pytest.fixture
def u8db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'u8.db'}"
    write_world(handmade_world(), url)
    return url


def test_records_have_the_openapi_shape_and_keys(u8db):
    result = run(u8db)
    assert result.records["customer"][0] == {"code": "U001", "name": "恒远机电（上海）有限公司",
                                             "taxno": "91310000MA1FL4XK1Y", "spec_operator": "P01"}
    assert result.records["customer"][1]["taxno"] == ""  # an empty value is not a missing one
    so1 = next(r for r in result.records["saleorderlist"] if r["code"] == "SO1")
    assert so1["state"] == "Approved" and so1["entry"] == [] and str(so1["sum"]) == "150000"
    keys = {s["tap_stream_id"]: s["key_properties"] for s in result.tap.catalog_dict["streams"]}
    assert keys["saleinvoicelist"] == ["invoiceno"] and keys["currentstock"] == ["invcode", "whcode"]
    assert "person" not in result.state["bookmarks"] or not result.state["bookmarks"]["person"]


def test_rowversion_increments_land_exactly_the_changed_rows(u8db):
    first = run(u8db, change_tracking="rowversion")
    assert first.state["bookmarks"]["customer"]["replication_key"] == "pubufts"
    again = run(u8db, first.state, change_tracking="rowversion").records
    assert list(again) == ["person"]  # no change tracking on Person: read whole (FULL_TABLE)
    assert bump(u8db, "customer", ["U001", "U003"], {"name": "恒远机电有限公司"}) == 2
    assert bump(u8db, "saleorderlist", ["SO2"]) == 1
    second = run(u8db, first.state, change_tracking="rowversion")
    assert {s: [r.get("code") for r in rs] for s, rs in second.records.items() if s != "person"} == {
        "customer": ["U001", "U003"], "saleorderlist": ["SO2"]}
    assert second.records["customer"][0]["name"] == "恒远机电有限公司"


def test_modified_time_reads_from_the_bookmark_on(u8db):
    first = run(u8db, streams=["saleorderlist"])  # auto on SQLite: the modification time
    assert first.state["bookmarks"]["saleorderlist"]["replication_key"] == "dmodifysystime"
    bump(u8db, "saleorderlist", ["SO1"])
    second = run(u8db, first.state, streams=["saleorderlist"])
    # >= the bookmark: the row saved in the bookmark's second comes again (the loader drops it
    # by content hash), the re-saved one is new.
    assert [r["code"] for r in second.records["saleorderlist"]] == ["SO3", "SO1"]


def test_mssql_reads_rowversion_with_convert():
    tap = TapU8DB(config={"sqlalchemy_url": "mssql+pyodbc://u:p@h/UFDATA_001?driver=x"}, parse_env_config=False)
    assert tap.tracking_mode == "rowversion"
    from sqlalchemy.dialects import mssql

    sql = str(tap.streams["customer"].header_query(None).compile(dialect=mssql.dialect()))
    assert "CONVERT(bigint, Customer.pubufts) AS _hub_mark" in sql
    assert sql.endswith("ORDER BY CONVERT(bigint, Customer.pubufts), [Customer].[cCusCode]")


def test_unreachable_database_is_one_line_without_the_password(tmp_path):
    secret = "s3cret-u8-password"
    with pytest.raises(Exception) as info:
        run(f"postgresql+psycopg://hub:{secret}@127.0.0.1:9/ufdata?connect_timeout=1", streams=["person"])
    assert secret not in str(info.value)


def test_world_values_that_do_not_fit_stop_the_write(tmp_path):
    world = handmade_world()
    world["u8"]["saleorderlist"][0]["date"] = "not-a-date"
    world["u8"]["saleorderlist"][1]["state"] = "Weird"
    url = f"sqlite:///{tmp_path / 'u8.db'}"
    with pytest.raises(U8DBWriteError, match="2 world values do not fit") as info:
        write_world(world, url)
    assert "u8.saleorderlist[SO1].date: 'not-a-date' is not a date" in str(info.value)
    assert not (tmp_path / "u8.db").exists()


def test_a_broken_tables_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "tables.yaml"
    bad.write_text("customer: {table: Customer, columns: {cCusName: {field: name}}}", encoding="utf-8")
    with pytest.raises(CatalogError, match="cCusName: needs 'field' and a 'type'"):
        load_catalog(bad)


def test_connection_check_runs_one_query(u8db):
    from connectors.check import check_source
    from connectors.sources import SourceConfig

    ok = check_source(SourceConfig(name="erp", connector="u8db", config={"sqlalchemy_url": u8db}))
    assert ok.ok, ok.message
    url = "postgresql+psycopg://hub:pw-77@127.0.0.1:9/u8?connect_timeout=1"
    bad = check_source(SourceConfig(name="erp", connector="u8db", config={"sqlalchemy_url": url}))
    assert not bad.ok and "pw-77" not in bad.message


def test_a_hand_made_world_comes_back_as_the_api_would_answer(u8db):
    from tests.e2e.test_u8db_parity import normalized

    world = handmade_world()["u8"]
    result = run(u8db)
    for stream, records in world.items():
        assert [normalized(r) for r in result.records.get(stream, [])] == [normalized(r) for r in records], stream


def test_switching_the_mark_reads_whole_instead_of_failing(u8db):
    by_rowversion = run(u8db, streams=["saleorderlist"], change_tracking="rowversion")
    switched = run(u8db, by_rowversion.state, streams=["saleorderlist"], change_tracking="modified")
    assert len(switched.records["saleorderlist"]) == 3
    assert switched.state["bookmarks"]["saleorderlist"]["replication_key"] == "dmodifysystime"


def test_a_class_name_lives_in_the_class_table_and_comes_back_by_join(tmp_path):
    import sqlalchemy as sa

    world = handmade_world()
    world["u8"]["inventory"] = [
        {"code": "A1", "name": "泵", "sort_code": "01", "sort_name": "离心泵系列"},
        {"code": "A2", "name": "阀", "sort_code": "01", "sort_name": "离心泵系列"},
        {"code": "B1", "name": "管", "sort_code": "02"},  # a class without a name: no class row
        {"code": "C1", "name": "件"},
    ]
    url = f"sqlite:///{tmp_path / 'u8.db'}"
    report = write_world(world, url)
    assert report.rows["InventoryClass"] == 1 and "inventory" not in report.unmapped
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT cInvCCode, cInvCName FROM InventoryClass")).all() == [("01", "离心泵系列")]
        assert "cInvCName" not in {c["name"] for c in sa.inspect(conn).get_columns("Inventory")}
    engine.dispose()
    records = {r["code"]: r for r in run(url).records["inventory"]}
    assert records["A1"]["sort_name"] == records["A2"]["sort_name"] == "离心泵系列"
    assert "sort_name" not in records["B1"] and records["B1"]["sort_code"] == "02"
    assert "sort_name" not in records["C1"] and "sort_code" not in records["C1"]


def test_a_class_name_u8_cannot_hold_stops_the_write(tmp_path):
    world = handmade_world()
    world["u8"]["inventory"] = [
        {"code": "A1", "sort_code": "01", "sort_name": "泵"},
        {"code": "A2", "sort_code": "01", "sort_name": "阀"},  # one code, two names
        {"code": "A3", "sort_name": "管"},  # a name without a code
    ]
    with pytest.raises(U8DBWriteError, match="2 world values do not fit") as info:
        write_world(world, f"sqlite:///{tmp_path / 'u8.db'}")
    assert "u8.inventory[A2]: InventoryClass '01' already named" in str(info.value)
    assert "u8.inventory[A3]: sort_name without a code (cInvCCode)" in str(info.value)
