"""The hub's Singer loader: versioned landing, rejects, and state committed with its data."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from connectors.landing import SingerLoader, load_state, record_hash
from hub_core.schema import raw_record, raw_reject, raw_stream

SCHEMA = {
    "type": "SCHEMA",
    "stream": "saleorderlist",
    "key_properties": ["code"],
    "schema": {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "date": {"type": ["string", "null"], "format": "date"},
            "sum": {"type": ["number", "string", "null"]},
        },
    },
}


def rec(code, date="2026-11-01", total=100):
    return json.dumps({"type": "RECORD", "stream": "saleorderlist", "record": {"code": code, "date": date, "sum": total}})


def state(n):
    return json.dumps({"type": "STATE", "value": {"bookmarks": {"saleorderlist": {"n": n}}}})


def load(engine, lines, run_id=1):
    return SingerLoader(engine, "u8", run_id, batch_size=2).feed([json.dumps(SCHEMA), *lines])


def current(engine):
    with engine.connect() as conn:
        return {r.record_key: json.loads(r.data) for r in conn.execute(
            select(raw_record).where(raw_record.c.is_current.is_(True)))}


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_lands_records_and_state(engine):
    stats = load(engine, [rec("SO1"), rec("SO2"), rec("SO3"), state(3)])
    assert stats.landed == 3 and stats.rejected == 0
    assert set(current(engine)) == {"SO1", "SO2", "SO3"}
    assert load_state(engine, "u8") == {"bookmarks": {"saleorderlist": {"n": 3}}}


def test_unchanged_records_land_nothing_and_changes_land_once(engine):
    load(engine, [rec("SO1"), rec("SO2"), state(1)])
    again = load(engine, [rec("SO1"), rec("SO2"), state(2)], run_id=2)
    assert again.landed == 0 and again.seen == 2
    changed = load(engine, [rec("SO1"), rec("SO2", total="250.00"), state(3)], run_id=3)
    assert changed.landed == 1
    assert count(engine, raw_record) == 3  # history kept: two versions of SO2
    assert current(engine)["SO2"]["sum"] == "250.00"
    with engine.connect() as conn:
        versions = conn.execute(select(func.count()).where(raw_record.c.record_key == "SO2")).scalar_one()
    assert versions == 2


def test_duplicate_key_within_one_batch_keeps_the_last(engine):
    stats = SingerLoader(engine, "u8", 1, batch_size=100).feed(
        [json.dumps(SCHEMA), rec("SO1", total=1), rec("SO1", total=2)])
    assert stats.landed == 1
    assert current(engine)["SO1"]["sum"] == 2


def test_malformed_record_is_set_aside_with_reason(engine):
    stats = load(engine, [rec("SO1"), rec("SO2", date="not-a-date"), rec("SO3"), "garbage line", state(1)])
    assert stats.landed == 2
    assert stats.rejected == 2
    with engine.connect() as conn:
        rejects = conn.execute(select(raw_reject).order_by(raw_reject.c.id)).all()
    assert [r.record_key for r in rejects] == ["SO2", None]
    assert "date" in rejects[0].reason and "not-a-date" in rejects[0].reason
    assert json.loads(rejects[0].data)["code"] == "SO2"  # nothing is lost
    assert rejects[1].reason == "not a Singer message"


def test_record_without_key_or_schema_is_rejected(engine):
    no_key = json.dumps({"type": "RECORD", "stream": "saleorderlist", "record": {"date": "2026-01-01"}})
    unknown = json.dumps({"type": "RECORD", "stream": "nope", "record": {"code": "X"}})
    empty_key = json.dumps({"type": "RECORD", "stream": "saleorderlist", "record": {"code": ""}})
    stats = load(engine, [no_key, unknown, empty_key])
    assert stats.rejected == 3 and stats.landed == 0
    with engine.connect() as conn:
        reasons = [r.reason for r in conn.execute(select(raw_reject).order_by(raw_reject.c.id))]
    assert reasons == ["key property 'code' is missing", "RECORD before any SCHEMA for its stream",
                       "key property 'code' is missing"]


def test_state_is_not_committed_without_its_data(engine):
    """If landing the batch before a STATE fails, neither the records nor the state persist."""
    import pytest
    from sqlalchemy import text

    loader = SingerLoader(engine, "u8", 1, batch_size=100)
    loader.feed([json.dumps(SCHEMA), rec("SO1"), state(1)])
    with engine.begin() as conn:  # a real database failure: the raw table is gone
        conn.execute(text("ALTER TABLE raw_record RENAME TO raw_record_away"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error, which differs per database
        loader.feed([rec("SO2"), state(2)])
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE raw_record_away RENAME TO raw_record"))
    assert load_state(engine, "u8") == {"bookmarks": {"saleorderlist": {"n": 1}}}
    assert set(current(engine)) == {"SO1"}
    assert loader.stats.landed == 1  # the failed batch was not counted


def test_hash_ignores_singer_metadata_columns():
    assert record_hash({"a": 1, "_sdc_extracted_at": "x"}) == record_hash({"a": 1, "_sdc_extracted_at": "y"})
    assert record_hash({"a": 1}) != record_hash({"a": 2})


def test_poison_records_are_set_aside_on_every_backend(engine):
    long_key = rec("K" * 600)
    nul_line = "garbage\x00line"
    bad_stream = json.dumps({"type": "RECORD", "stream": "s" * 300, "record": {"code": "X"}})
    stats = load(engine, [long_key, nul_line, bad_stream, rec("SO1"), state(1)])
    assert stats.landed == 1 and stats.rejected == 3
    with engine.connect() as conn:
        data = [r.data for r in conn.execute(select(raw_reject))]
    assert any("\\u0000" in d for d in data)  # kept, escaped: PostgreSQL text cannot hold NUL


def test_an_invalid_schema_sets_its_records_aside(engine):
    bad_schema = json.dumps({"type": "SCHEMA", "stream": "broken", "schema": {"type": "objekt"}, "key_properties": ["id"]})
    no_stream = json.dumps({"type": "SCHEMA", "schema": {}})
    record = json.dumps({"type": "RECORD", "stream": "broken", "record": {"id": 1}})
    stats = load(engine, [bad_schema, no_stream, record, rec("SO1")])
    assert stats.landed == 1 and stats.rejected == 2
    with engine.connect() as conn:
        reasons = [r.reason for r in conn.execute(select(raw_reject).order_by(raw_reject.c.id))]
    assert any("SCHEMA is invalid" in r for r in reasons)


def test_unparsable_lines_are_kept_with_secrets_redacted(engine):
    SingerLoader(engine, "u8", 1, secrets=["hunter22"]).feed(["debug: token=hunter22"])
    with engine.connect() as conn:
        assert conn.execute(select(raw_reject.c.data)).scalar_one() == "debug: token=***"


def test_calendar_invalid_date_is_rejected_like_any_malformed_value(engine):
    stats = load(engine, [rec("SO1", date="2026-02-30"), rec("SO2", date="2026-02-28"), rec("SO3", total="12.5")])
    assert (stats.landed, stats.rejected) == (2, 1)


def test_key_look_ups_use_the_current_version_index(tmp_path):
    """The loader's own look-up must hit the partial index on SQLite (a scan grows with history)."""
    from connectors.landing import current_versions
    from hub_core.warehouse import open_warehouse

    eng = open_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    query = select(raw_record.c.record_hash).where(current_versions("s", "t"))
    sql = str(query.params(keys=["a", "b"]).compile(eng, compile_kwargs={"literal_binds": True}))
    with eng.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    assert "is_current = 1" in sql
    assert any("uq_raw_record_current" in str(row) for row in plan), plan


def test_many_keys_compound_keys_and_sources_kept_apart(engine):
    """Look-ups run in chunks (a second landing of 1200 records must find them all), compound
    keys join with '|', and the same key under two sources are two records."""
    lines = [json.dumps(SCHEMA), *(rec(f"SO{i}") for i in range(1200)), state(1)]
    assert SingerLoader(engine, "u8", 1).feed(lines).landed == 1200
    assert SingerLoader(engine, "u8", 2).feed(lines).landed == 0
    assert SingerLoader(engine, "u8_other", 3).feed(lines).landed == 1200
    compound = {**SCHEMA, "stream": "stock", "key_properties": ["inv", "wh"]}
    record = json.dumps({"type": "RECORD", "stream": "stock", "record": {"inv": "A1", "wh": "01"}})
    SingerLoader(engine, "u8", 4).feed([json.dumps(compound), record])
    with engine.connect() as conn:
        keys = conn.execute(select(raw_record.c.record_key).where(raw_record.c.stream == "stock")).scalars().all()
        streams = conn.execute(select(raw_stream.c.source, raw_stream.c.key_properties)
                               .where(raw_stream.c.stream == "stock")).all()
    assert keys == ["A1|01"]
    assert streams == [("u8", '["inv","wh"]')]


def test_activate_version_is_ignored_and_unknown_types_are_set_aside(engine):
    lines = [json.dumps({"type": "ACTIVATE_VERSION", "stream": "saleorderlist", "version": 1}),
             json.dumps({"type": "SURPRISE", "stream": "saleorderlist"}), rec("SO1")]
    stats = load(engine, lines)
    assert (stats.landed, stats.rejected) == (1, 1)
    with engine.connect() as conn:
        assert conn.execute(select(raw_reject.c.reason)).scalar_one() == "unknown Singer message type 'SURPRISE'"


# ------------------------------------------------------------------ deletions and tap rejects

INCREMENTAL = {**SCHEMA, "bookmark_properties": ["date"]}


def full_pass(engine, lines, run_id, schema=SCHEMA, full_refresh=False):
    loader = SingerLoader(engine, "u8", run_id, batch_size=2, full_refresh=full_refresh)
    loader.feed([json.dumps(schema), *lines])
    return loader, loader.finish_pass()


def live_and_deleted(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.record_key, raw_record.c.deleted_at)
                            .where(raw_record.c.is_current.is_(True))).all()
    return ({k for k, d in rows if d is None}, {k for k, d in rows if d is not None})


def test_full_table_pass_marks_unseen_keys_deleted_and_a_return_undeletes(engine):
    full_pass(engine, [rec("A"), rec("B"), rec("C"), state(1)], 1)
    loader, deleted = full_pass(engine, [rec("A"), rec("C"), state(2)], 2)
    assert deleted == {"saleorderlist": 1} and loader.stats.deleted == 1
    assert live_and_deleted(engine) == ({"A", "C"}, {"B"})
    assert current(engine)["B"]["sum"] == 100  # soft: the data stays
    assert count(engine, raw_record) == 3  # no new version for a deletion
    _, again = full_pass(engine, [rec("A"), rec("C"), state(3)], 3)
    assert again == {"saleorderlist": 0}  # already deleted: not counted twice

    loader, _ = full_pass(engine, [rec("A"), rec("B"), rec("C"), state(4)], 4)
    assert loader.stats.landed == 1  # B is back, unchanged in content: a new live version
    assert live_and_deleted(engine) == ({"A", "B", "C"}, set())
    with engine.connect() as conn:
        history = conn.execute(select(raw_record.c.is_current, raw_record.c.deleted_at)
                               .where(raw_record.c.record_key == "B").order_by(raw_record.c.id)).all()
    assert [(bool(c), d is not None) for c, d in history] == [(False, True), (True, False)]


def test_no_deletions_without_a_completed_pass_or_for_incremental_streams(engine):
    full_pass(engine, [rec("A"), rec("B"), state(1)], 1)
    # a pass that failed midway: the loader is fed but finish_pass is never called
    SingerLoader(engine, "u8", 2).feed([json.dumps(SCHEMA), rec("A")])
    assert live_and_deleted(engine) == ({"A", "B"}, set())
    # an incremental stream's pass is partial by nature
    _, deleted = full_pass(engine, [rec("A"), state(3)], 3, schema=INCREMENTAL)
    assert deleted == {} and live_and_deleted(engine) == ({"A", "B"}, set())
    # ... unless the run was an explicit full refresh
    _, deleted = full_pass(engine, [rec("A"), state(4)], 4, schema=INCREMENTAL, full_refresh=True)
    assert deleted == {"saleorderlist": 1} and live_and_deleted(engine) == ({"A"}, {"B"})
    with engine.connect() as conn:
        marks = conn.execute(select(raw_stream.c.bookmark_properties)).scalar_one()
    assert json.loads(marks) == ["date"]


def test_unsafe_passes_infer_no_deletions(engine):
    full_pass(engine, [rec("A"), rec("B"), rec("C"), state(1)], 1)
    # B fails validation but was seen at the source: not deleted
    _, deleted = full_pass(engine, [rec("A"), rec("B", date="not-a-date"), rec("C")], 2)
    assert deleted == {"saleorderlist": 0}
    # a record without its key might be any record: no inference at all
    keyless = json.dumps({"type": "RECORD", "stream": "saleorderlist", "record": {"sum": 1}})
    _, deleted = full_pass(engine, [rec("A"), keyless], 3)
    assert deleted == {}
    # an empty answer is suspect, not "everything was deleted"
    _, deleted = full_pass(engine, [state(4)], 4)
    assert deleted == {"saleorderlist": 0}
    assert live_and_deleted(engine) == ({"A", "B", "C"}, set())


def test_tap_rejects_land_in_raw_reject_with_reason_and_counts(engine):
    reject_schema = json.dumps({"type": "SCHEMA", "stream": "_rejects", "key_properties": [],
                                "schema": {"type": "object"}})
    reject = json.dumps({"type": "RECORD", "stream": "_rejects", "record": {
        "stream": "saleorderlist", "record_key": "SO2", "reason": "U8 errcode 99999 (boom)",
        "data": {"code": "SO2", "date": "2026-11-02"}}})
    malformed = json.dumps({"type": "RECORD", "stream": "_rejects", "record": {"stream": "x"}})
    loader, deleted = full_pass(engine, [rec("SO1"), reject_schema, reject, malformed, state(1)], 1)
    assert loader.stats.streams["saleorderlist"].seen == 2
    assert loader.stats.streams["saleorderlist"].rejected == 1
    assert loader.stats.rejected == 2 and loader.stats.landed == 1
    assert "_rejects" not in loader.stats.streams
    with engine.connect() as conn:
        rows = conn.execute(select(raw_reject).order_by(raw_reject.c.id)).all()
        streams = conn.execute(select(raw_stream.c.stream)).scalars().all()
    assert (rows[0].stream, rows[0].record_key) == ("saleorderlist", "SO2")
    assert rows[0].reason == "set aside by the tap: U8 errcode 99999 (boom)"
    assert json.loads(rows[0].data) == {"code": "SO2", "date": "2026-11-02"}
    assert rows[1].reason == "a tap reject without stream and reason"
    assert streams == ["saleorderlist"]  # the reject stream is no stream of the source
    assert deleted == {"saleorderlist": 0}  # the set-aside SO2 is not new, but was seen


def test_a_pass_too_small_to_believe_withholds_its_deletions(engine):
    full_pass(engine, [rec(k) for k in "ABCDEFGHIJ"] + [state(1)], 1)
    # 8 of 10 live records left out (> the default 50 %): an outage, not deletions
    loader, deleted = full_pass(engine, [rec("A"), rec("B"), state(2)], 2)
    assert deleted == {"saleorderlist": 0}
    assert loader.stats.withheld == {"saleorderlist": {"live": 10, "withheld": 8}}
    assert live_and_deleted(engine) == (set("ABCDEFGHIJ"), set())
    # an empty answer is withheld (and counted) too
    loader, _ = full_pass(engine, [state(3)], 3)
    assert loader.stats.withheld == {"saleorderlist": {"live": 10, "withheld": 10}}
    # exactly half left out is still believed
    loader, deleted = full_pass(engine, [rec(k) for k in "ABCDE"] + [state(4)], 4)
    assert deleted == {"saleorderlist": 5} and loader.stats.withheld == {}
    # a stricter threshold (the rules file's staleness.max_drop) withholds what 0.5 accepted
    strict = SingerLoader(engine, "u8", 5, max_drop=0.3)
    strict.feed([json.dumps(SCHEMA), rec("A"), rec("B"), rec("C")])
    strict.finish_pass()
    assert strict.stats.withheld == {"saleorderlist": {"live": 5, "withheld": 2}}
    # a real purge is accepted explicitly (hub sync --accept-deletions)
    accept = SingerLoader(engine, "u8", 6, max_drop=None)
    accept.feed([json.dumps(SCHEMA), rec("A")])
    assert accept.finish_pass() == {"saleorderlist": 4} and live_and_deleted(engine) == ({"A"}, set("BCDEFGHIJ"))


def test_withheld_deletions_make_the_source_stale(engine, monkeypatch):
    from hub_core.schema import sync_run
    from quality import staleness
    from quality.config import StalenessConfig

    monkeypatch.setattr(staleness, "queue_stale_alert", lambda *a: None)
    withheld = json.dumps({"customer": {"live": 60, "withheld": 54}})
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(sync_run), [{"source": "u8", "started_at": now, "finished_at": now, "status": "succeeded",
                                         "deletions_withheld": withheld}])
        verdict = staleness.check_sources(conn, StalenessConfig())["u8"]
    assert verdict.stale and verdict.reason == ("deletions withheld: 54 (the last sync returned 6 of 60 live "
                                                "customer records)")


def test_statistics_are_refreshed_as_the_table_doubles_not_every_batch(engine, monkeypatch):
    """PostgreSQL: the first ANALYZE_EVERY rows give raw_record statistics; after that the loader
    analyses again only once the table has about doubled (the planner scales the row count by
    the table's size in between), so a big load pays a few ANALYZEs, not one per batch."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics: nothing to refresh")
    import connectors.landing as landing

    monkeypatch.setattr(landing, "ANALYZE_EVERY", 10)
    loader = SingerLoader(engine, "u8", 1, batch_size=10)
    loader.handle_line(json.dumps(SCHEMA))

    def known():
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'raw_record'::regclass").scalar()

    seen = []
    for batch in range(5):
        for i in range(10):
            loader.handle_line(rec(f"SO{batch}-{i}"))  # the tenth record fills the batch: it lands
        seen.append(known())
    # analysed at 10 (none known), 20 (10 landed since >= 10 known), 40 (20 >= 20); not at 30, 50
    assert seen == [10, 20, 20, 40, 40]
