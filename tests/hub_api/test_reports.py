"""Produced reports over HTTP: the listing, downloads with their content types, and who may read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from hub_api.routes_reports import iso_week


@pytest.fixture
def report(hub, tmp_path):
    from quality.report import write_report

    files = write_report(hub.engine, tmp_path / "out", lang="en", as_of=datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
                         weekly=True)
    return {p.suffix.lstrip("."): p for p in files.files}


def test_a_written_report_is_listed_and_downloadable_as_written(hub, report):
    body = hub.get("hq", "/reports").json()
    assert body["total"] == 1
    [item] = body["items"]
    assert (item["language"], item["weekly"], item["week"]) == ("en", True, "2026-W47")
    assert item["open_count"] == 37 - 0 and item["amount_cny"].count(".") == 1
    assert {f["format"] for f in item["files"]} == {"html", "xlsx", "md"}
    types = {"html": "text/html", "md": "text/markdown",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    for f in item["files"]:
        response = hub.get("dashboard", f["url"])
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == types[f["format"]]
        assert response.content == report[f["format"]].read_bytes()
        assert f["size_bytes"] == len(response.content)
        assert f'report-{item["id"]}.{f["format"]}' in response.headers["content-disposition"]
    assert hub.get("hq", f"/reports/{item['id']}/pdf").status_code == 422


def test_reports_are_for_full_scope_roles_only(hub, report):
    for role in ("region_manager", "rep", "finance"):
        assert hub.get(role, "/reports").status_code == 403
        assert hub.get(role, "/reports/1/html").status_code == 403
    for role in ("admin", "hq", "dashboard"):
        assert hub.get(role, "/reports").status_code == 200


def test_older_reports_without_files_and_paging(hub):
    from hub_core.schema_report import report_run

    with hub.engine.begin() as conn:
        conn.execute(insert(report_run), [
            {"as_of": datetime(2026, 11, d, 0, tzinfo=UTC), "since": datetime(2026, 11, d - 7, 0, tzinfo=UTC),
             "generated_at": datetime(2026, 11, d, 1, tzinfo=UTC), "lang": "zh" if d % 2 else "en", "weekly": False,
             "open_count": d, "new_count": 0, "persisting_count": d, "resolved_count": 0, "amount_cents": 12345}
            for d in range(9, 14)])
    ids, cursor = [], None
    while True:
        body = hub.get("hq", "/reports", limit=2, language="zh", **({"cursor": cursor} if cursor else {})).json()
        ids += [i["id"] for i in body["items"]]
        assert body["total"] == 3 and all(i["files"] == [] for i in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert hub.get("hq", f"/reports/{ids[0]}/html").status_code == 404
    assert hub.get("hq", "/reports/999999/md").status_code == 404


def test_iso_week_is_the_week_a_monday_morning_report_covers():
    assert iso_week(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == "2026-W47"  # Monday 08:00 Shanghai
    assert iso_week(datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) == "2026-W48"  # a Wednesday
