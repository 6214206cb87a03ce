"""Sync runs over HTTP: the landing-quality counts a real load writes (quarantine entries,
duplicate keys, drift events, withheld deletions) and the run's drift events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import insert

from connectors.drift import DriftConfig
from connectors.landing import SingerLoader
from connectors.runs import start_run
from connectors.sync import _finish
from hub_core.schema_quarantine import schema_drift

SCHEMA = {"type": "SCHEMA", "stream": "orders", "key_properties": ["id"],
          "schema": {"type": "object", "properties": {"id": {"type": "string"}, "amount": {"type": "number"}}}}


def _line(message: dict) -> str:
    return json.dumps(message)


def _record(**record) -> str:
    return _line({"type": "RECORD", "stream": "orders", "record": record})


def _load(engine, lines: list[str]) -> int:
    """One sync of source ``shop`` through the real loader, finished as connectors/sync.py does."""
    run_id = start_run(engine, "shop", False)
    loader = SingerLoader(engine, "shop", run_id, drift=DriftConfig(new_field="freeze"))
    stats = loader.feed(lines)
    loader.finish_pass()
    _finish(engine, run_id, "partial" if stats.set_aside else "succeeded", stats, None)
    return run_id


def test_a_run_shows_its_landing_counts_and_drift_events(hub, engine):
    first = _load(engine, [_line(SCHEMA)] + [_record(id=f"o{i}", amount=i) for i in range(4)] + [
        _record(id="o0", amount=5),  # a repeated key: the last version wins
        _record(id="o9", amount="12.50"),  # type_change: quarantined (the default)
        _record(id="o8", amount="7"),
        _record(id="o7", amount=1, note="x"),  # new_field: frozen (lands without it, payload kept)
    ])
    body = hub.get("hq", f"/runs/{first}").json()
    assert (body["status"], body["records_seen"], body["records_rejected"]) == ("partial", 8, 2)
    assert (body["records_quarantined"], body["duplicate_keys"], body["drift_events"]) == (3, 1, 2)
    assert body["deletions_withheld"] is None
    assert [(d["field"], d["kind"], d["declared"], d["observed"], d["action"], d["records"])
            for d in body["drift"]] == [("amount", "type_change", "number", "string", "quarantine", 2),
                                        ("note", "new_field", None, "string", "freeze", 1)]
    assert body["drift"][0]["example_key"] == "o9" and body["drift_more"] is False
    assert datetime.fromisoformat(body["drift"][0]["detected_at"]).tzinfo is not None

    # A full-table pass that returns nothing for a stream with live records looks like an outage.
    second = _load(engine, [_line(SCHEMA)])
    body = hub.get("dashboard", f"/runs/{second}").json()
    assert body["deletions_withheld"] == {"orders": {"live": 5, "withheld": 5}}
    assert (body["records_quarantined"], body["duplicate_keys"], body["drift_events"], body["drift"]) == (0, 0, 0, [])
    listed = {r["id"]: r for r in hub.get("hq", "/runs", source="shop").json()["items"]}
    assert listed[second]["deletions_withheld"] == {"orders": {"live": 5, "withheld": 5}}
    assert listed[first]["drift_events"] == 2 and "drift" not in listed[first]


def test_runs_from_before_the_counts_show_null(hub):
    body = hub.get("hq", "/runs/1").json()  # seeded without the landing-quality columns
    assert (body["records_quarantined"], body["duplicate_keys"], body["drift_events"],
            body["deletions_withheld"], body["drift"], body["drift_more"]) == (None, None, None, None, [], False)


def test_drift_events_are_listed_most_frequent_first_and_capped(hub, engine):
    from hub_api.routes_data import MAX_DRIFT_LISTED

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(schema_drift), [
            {"sync_run_id": 2, "source": "u8", "stream": "s", "field": f"f{i}", "kind": "new_field", "declared": None,
             "observed": "string", "action": "evolve", "records": i, "example_key": None, "detected_at": now}
            for i in range(1, MAX_DRIFT_LISTED + 3)])
    body = hub.get("hq", "/runs/2").json()
    assert len(body["drift"]) == MAX_DRIFT_LISTED and body["drift_more"] is True
    assert [d["records"] for d in body["drift"][:3]] == [MAX_DRIFT_LISTED + 2, MAX_DRIFT_LISTED + 1, MAX_DRIFT_LISTED]
    assert hub.get("hq", "/runs/3").json()["drift"] == []  # another run's events are not its own
    assert hub.get("finance", "/runs/2").status_code == 403
