"""The landing quarantine, schema drift policies and duplicate keys, driven with Singer messages
(SQLite and PostgreSQL): every injected malformed record is quarantined once with its reason,
replay after a fix lands it, a type change follows the configured policy."""

import json

import pytest
from sqlalchemy import select, update

from connectors.drift import parse_drift
from connectors.landing import SingerLoader
from connectors.quarantine import list_entries
from connectors.replay import replay
from hub_core.schema import raw_record, raw_reject, raw_stream
from hub_core.schema_quarantine import schema_drift, sync_duplicate_key

PROPS = {"code": {"type": "string"}, "date": {"type": ["string", "null"], "format": "date"},
         "amount": {"type": ["number", "null"]}}


def schema_msg(props=PROPS, stream="orders"):
    return json.dumps({"type": "SCHEMA", "stream": stream, "key_properties": ["code"],
                       "schema": {"type": "object", "properties": props}})


def rec(code, stream="orders", **fields):
    body = {"code": code, "date": "2026-11-01", "amount": 10.5, **fields}
    return json.dumps({"type": "RECORD", "stream": stream, "record": body})


def state(n):
    return json.dumps({"type": "STATE", "value": {"bookmarks": {"orders": {"n": n}}}})


def run(engine, lines, run_id, drift=None, schema=None):
    loader = SingerLoader(engine, "erp", run_id, batch_size=3, drift=parse_drift(drift),
                          connector="tap-erp", connector_version="1.2.3")
    loader.resume_from({"bookmarks": {"orders": {"n": 0}}})
    return loader.feed([schema or schema_msg(), *lines])


def entries(engine):
    with engine.connect() as conn:
        return {r.record_key: r for r in conn.execute(select(raw_reject).order_by(raw_reject.c.id))}


def current(engine):
    with engine.connect() as conn:
        return {r.record_key: json.loads(r.data) for r in conn.execute(
            select(raw_record).where(raw_record.c.is_current.is_(True)))}


def test_a_malformed_record_is_quarantined_once_with_source_cursor_and_connector(engine):
    bad = [rec("A"), rec("B", date="not-a-date"), state(1), rec("C", date="2026-13-40"), state(2)]
    first = run(engine, bad, 1)
    assert (first.landed, first.rejected, first.quarantined, first.set_aside) == (1, 2, 2, 2)
    again = run(engine, bad, 2)  # the source still has them: seen again, not quarantined again
    assert (again.rejected, again.quarantined) == (2, 0)
    got = entries(engine)
    assert set(got) == {"B", "C"}
    b, c = got["B"], got["C"]
    assert "not-a-date" in b.reason and "date" in b.reason and b.kind == "invalid"
    assert (b.source, b.stream, b.status, b.seen_count, b.sync_run_id, b.last_sync_run_id) == \
        ("erp", "orders", "open", 2, 1, 2)
    assert (b.connector, b.connector_version) == ("tap-erp", "1.2.3")
    assert json.loads(b.cursor) == {"bookmarks": {"orders": {"n": 0}}}  # before the first STATE
    assert json.loads(c.cursor) == {"bookmarks": {"orders": {"n": 1}}}
    assert json.loads(b.data)["date"] == "not-a-date"
    rows, total = list_entries(engine, source="erp", reason="NOT-A-DATE")
    assert total == 1 and rows[0].record_key == "B"


def test_singer_metadata_does_not_make_a_payload_new(engine):
    def line(moment):
        return json.dumps({"type": "RECORD", "stream": "orders", "record": {
            "code": "X", "date": "bad", "amount": 1, "_sdc_extracted_at": moment}})

    run(engine, [line("2026-01-01T00:00:00Z")], 1)
    run(engine, [line("2026-01-02T00:00:00Z")], 2)
    assert entries(engine)["X"].seen_count == 2


def test_a_different_bad_payload_of_the_same_record_is_a_new_entry(engine):
    run(engine, [rec("B", date="bad-1")], 1)
    run(engine, [rec("B", date="bad-2")], 2)
    with engine.connect() as conn:
        dates = [json.loads(d)["date"] for d in conn.execute(select(raw_reject.c.data).where(
            raw_reject.c.status == "open")).scalars()]
    assert sorted(dates) == ["bad-1", "bad-2"]


def test_a_later_good_version_supersedes_the_entry_and_the_same_bad_payload_reopens_it(engine):
    run(engine, [rec("B", date="bad")], 1)
    run(engine, [rec("B")], 2)
    assert entries(engine)["B"].status == "superseded" and current(engine)["B"]["date"] == "2026-11-01"
    run(engine, [rec("B", date="bad")], 3)
    assert entries(engine)["B"].status == "open" and entries(engine)["B"].seen_count == 2


def test_within_one_batch_a_bad_version_after_a_good_one_stays_open(engine):
    run(engine, [rec("B"), rec("B", date="bad")], 1)
    assert entries(engine)["B"].status == "open"


def test_tap_rejects_and_garbage_lines_are_quarantined_once(engine):
    tap_reject = json.dumps({"type": "RECORD", "stream": "_rejects", "record": {
        "stream": "orders", "record_key": "SO9", "reason": "detail call failed (99999)", "data": {"code": "SO9"}}})
    for run_id in (1, 2):
        stats = run(engine, [tap_reject, "garbage that is not json"], run_id)
        assert stats.rejected == 2
    got = entries(engine)
    assert (got["SO9"].kind, got["SO9"].seen_count) == ("tap", 2)
    assert (got[None].kind, got[None].seen_count, got[None].stream) == ("unparsable", 2, None)
    assert stats.quarantined == 0


TYPE_CHANGE = rec("T", amount="12.50")  # amount is declared a number


@pytest.mark.parametrize("policy", ["quarantine", "freeze", "evolve"])
def test_a_type_change_follows_the_stream_policy_and_is_recorded(engine, policy):
    run(engine, [rec("T"), state(1)], 1)  # the good version
    stats = run(engine, [TYPE_CHANGE, rec("U"), state(2)], 2,
                drift={"type_change": "evolve", "streams": {"orders": {"type_change": policy}}})
    with engine.connect() as conn:
        events = conn.execute(select(schema_drift)).all()
    assert [(e.sync_run_id, e.stream, e.field, e.kind, e.declared, e.observed, e.action, e.records, e.example_key)
            for e in events] == [(2, "orders", "amount", "type_change", "number|null", "string", policy, 1, "T")]
    assert stats.drift_events == 1 and stats.streams["orders"].drifted == 1
    now = current(engine)["T"]
    got = entries(engine)
    if policy == "quarantine":
        assert now["amount"] == 10.5  # the last good version stays current
        assert got["T"].kind == "drift" and "amount: declared number|null, came as string" in got["T"].reason
        assert (stats.rejected, stats.set_aside) == (1, 1)
    elif policy == "freeze":
        assert "amount" not in now and now["date"] == "2026-11-01"  # landed without the drifted field
        assert json.loads(got["T"].data)["amount"] == "12.50" and got["T"].status == "open"
        assert (stats.rejected, stats.set_aside, stats.landed) == (0, 1, 2)
    else:
        assert now["amount"] == "12.50" and got == {}
        assert stats.set_aside == 0


def test_new_fields_evolve_by_default_and_can_be_quarantined(engine):
    stats = run(engine, [rec("N", colour="red")], 1)
    assert current(engine)["N"]["colour"] == "red" and stats.set_aside == 0
    held = run(engine, [rec("M", colour="blue")], 2, drift={"new_field": "quarantine"})
    assert held.rejected == 1 and "colour: not declared (came as string)" in entries(engine)["M"].reason
    with engine.connect() as conn:
        actions = conn.execute(select(schema_drift.c.sync_run_id, schema_drift.c.kind, schema_drift.c.action)
                               .order_by(schema_drift.c.id)).all()
    assert [tuple(a) for a in actions] == [(1, "new_field", "evolve"), (2, "new_field", "quarantine")]


def test_a_bad_drift_policy_is_refused_by_name():
    with pytest.raises(ValueError, match="type_change"):
        parse_drift({"streams": {"orders": {"type_change": "ignore"}}})


def test_duplicate_keys_in_a_run_are_reported_and_the_last_wins(engine):
    stats = run(engine, [rec("D", amount=1), rec("E"), state(1), rec("D", amount=2), rec("D", amount=3),
                         rec("E")], 1)
    assert stats.duplicates == 3 and current(engine)["D"]["amount"] == 3
    with engine.connect() as conn:
        dups = {r.record_key: r.occurrences for r in conn.execute(select(sync_duplicate_key))}
    assert dups == {"D": 3, "E": 2}
    assert run(engine, [rec("D"), rec("E")], 2).duplicates == 0  # a new run starts afresh


def test_replay_after_a_schema_fix_lands_the_records_and_leaves_the_others(engine):
    run(engine, [rec("A"), TYPE_CHANGE, rec("B", date="bad"), state(1)], 1)
    assert replay(engine, "erp").landed == []  # nothing fixed yet
    assert entries(engine)["T"].status == "open"
    widened = {**PROPS, "amount": {"type": ["number", "string", "null"]}}  # the connector's fix
    run(engine, [state(2)], 2, schema=schema_msg(widened))
    result = replay(engine, "erp")
    assert result.landed == [entries(engine)["T"].id] and list(result.still_failing) == [entries(engine)["B"].id]
    assert current(engine)["T"]["amount"] == "12.50"
    assert entries(engine)["T"].status == "replayed" and entries(engine)["B"].status == "open"
    with engine.connect() as conn:
        run_of_t = conn.execute(select(raw_record.c.sync_run_id).where(
            raw_record.c.record_key == "T", raw_record.c.is_current.is_(True))).scalar_one()
    assert run_of_t == 1  # landed under the run that brought the payload
    assert replay(engine, "erp").landed == []  # replayed entries are not open any more


def test_replay_after_a_policy_change_lands_and_never_overwrites_a_newer_version(engine):
    run(engine, [TYPE_CHANGE, rec("V", amount="7")], 1)
    run(engine, [rec("V", amount=8.0)], 2)  # V fixed at the source meanwhile
    assert entries(engine)["V"].status == "superseded"
    with engine.begin() as conn:  # an old row left open (e.g. from before the quarantine)
        conn.execute(update(raw_reject).where(raw_reject.c.record_key == "V").values(status="open"))
    result = replay(engine, "erp", parse_drift({"type_change": "evolve"}))
    assert result.landed == [entries(engine)["T"].id] and result.superseded == [entries(engine)["V"].id]
    assert current(engine)["T"]["amount"] == "12.50" and current(engine)["V"]["amount"] == 8.0


def test_replay_skips_what_only_the_tap_can_fetch_again(engine):
    tap_reject = json.dumps({"type": "RECORD", "stream": "_rejects", "record": {
        "stream": "orders", "record_key": "SO9", "reason": "detail failed", "data": {"code": "SO9"}}})
    run(engine, [tap_reject], 1)
    result = replay(engine, "erp")
    assert list(result.skipped) == [entries(engine)["SO9"].id] and result.landed == []
    with engine.connect() as conn:
        assert conn.execute(select(raw_stream.c.stream)).scalars().all() == ["orders"]
