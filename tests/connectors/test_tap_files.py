"""tap-files on generated .xlsx / GBK .csv drop folders: standard suite + targeted behaviour."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest
from singer_sdk.testing import get_tap_test_class

from connectors.tap_files.tap import TapFiles
from tests.connectors import helpers

RATING_HEADERS = ["客户编码", "客户名称", "统一社会信用代码", "信用等级", "上次等级", "信用额度", "信用天数", "评级日期"]
CUSTOMER_HEADERS = ["客户编码", "客户名称", "统一社会信用代码", "业务员", "手机"]


def write_xlsx(path: Path, headers: list, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def write_csv(path: Path, headers: list, rows: list[list], encoding: str = "gbk") -> Path:
    lines = [",".join(headers)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def config(folder: Path, **extra: object) -> dict:
    return {
        "folder": str(folder),
        "streams": [
            {"name": "credit_rating", "pattern": "ratings/*.*"},
            {"name": "customer_list", "pattern": "customers/*.*"},
        ],
        **extra,
    }


def run(cfg: dict, state: dict | None = None) -> helpers.SyncResult:
    return helpers.sync_tap(TapFiles, cfg, state)


def rejects(result: helpers.SyncResult) -> list[dict]:
    return result.records.get("_rejects", [])


# ------------------------------------------------------------------ standard suite

STANDARD_CONFIG = config(Path("placeholder-set-by-the-fixture"))


class TestTapFilesStandard(get_tap_test_class(TapFiles, config=STANDARD_CONFIG)):  # type: ignore[misc]
    """singer-sdk's standard tap tests on a generated drop folder."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def drop_folder(cls, tmp_path_factory):
        folder = tmp_path_factory.mktemp("tap-files-standard")
        write_xlsx(folder / "ratings" / "2026-11.xlsx", RATING_HEADERS, [
            ["C0001", "上海甲有限公司", "91310000MA1FL4XK1Y", "AA", "A", 500000, 60, dt.datetime(2026, 11, 1)],
            ["C0002", "苏州乙贸易有限公司", None, "BBB", "BBB", 120000.5, 30, "2026/10/15"],
        ])
        write_csv(folder / "customers" / "list.csv", CUSTOMER_HEADERS, [
            ["C0001", "上海甲有限公司", "91310000MA1FL4XK1Y", "P01", "13800000001"],
        ])
        STANDARD_CONFIG["folder"] = str(folder)  # the runner holds this very dict


# ------------------------------------------------------------------ targeted


def test_xlsx_ratings_become_the_finance_shape(tmp_path):
    write_xlsx(tmp_path / "ratings" / "r.xlsx", [f" {h} " for h in RATING_HEADERS] + ["备注"], [
        ["C0001", "上海甲有限公司", "91310000ma1fl4xk1y", "aa", "A", 500000, 60, dt.datetime(2026, 11, 1), "x"],
        [1002, "乙公司", None, "C", None, "1,200.50", "45", "2026年10月5日"],
    ])
    result = run(config(tmp_path))
    assert result.records["credit_rating"] == [
        {"customer_code": "C0001", "customer_name": "上海甲有限公司", "uscc": "91310000MA1FL4XK1Y",
         "rating": "AA", "previous_rating": "A", "credit_limit": 500000, "credit_days": 60,
         "rated_at": "2026-11-01"},
        {"customer_code": "1002", "customer_name": "乙公司", "rating": "C", "credit_limit": 1200.5,
         "credit_days": 45, "rated_at": "2026-10-05"},
    ]
    assert rejects(result) == []


def test_gbk_csv_is_detected_and_decoded(tmp_path):
    write_csv(tmp_path / "customers" / "gbk.csv", CUSTOMER_HEADERS,
              [["C0009", "杭州云帆科技有限公司", "91330100MA27XQ5D78", "P02", "13900000002"]], encoding="gbk")
    write_csv(tmp_path / "customers" / "utf8.csv", CUSTOMER_HEADERS,
              [["C0010", "宁波海曙贸易", "", "P03", ""]], encoding="utf-8-sig")
    result = run(config(tmp_path))
    assert result.records["customer_list"] == [
        {"code": "C0009", "name": "杭州云帆科技有限公司", "uscc": "91330100MA27XQ5D78", "owner": "P02",
         "mobile": "13900000002"},
        {"code": "C0010", "name": "宁波海曙贸易", "owner": "P03"},
    ]


def test_bad_rows_go_to_rejects_with_their_reason(tmp_path):
    write_xlsx(tmp_path / "ratings" / "r.xlsx", RATING_HEADERS, [
        ["C1", "甲", None, "AAAA", None, 100, 30, "2026-11-01"],  # not on the ladder
        ["C2", "乙", None, "A", None, -5, 30, "2026-11-01"],  # negative limit
        [None, "丙", None, "B", None, 100, 30, "2026-11-01"],  # no key
        ["C4", "丁", None, "B", None, 100, 7.5, "yesterday"],  # two bad cells
        ["C5", "戊", None, "B", None, 100, 30, "2026-11-01"],
    ])
    result = run(config(tmp_path))
    assert [r["customer_code"] for r in result.records["credit_rating"]] == ["C5"]
    reasons = {r["data"]["row"]: r["reason"] for r in rejects(result)}
    assert set(reasons) == {2, 3, 4, 5}
    assert "信用等级 'AAAA' is none of" in reasons[2]
    assert "信用额度" in reasons[3] and "below 0" in reasons[3]
    assert "客户编码 is empty" in reasons[4]
    assert "信用天数" in reasons[5] and "评级日期 'yesterday' is not a date" in reasons[5]
    assert all(r["stream"] == "credit_rating" and r["reason"].startswith("ratings/r.xlsx row ") for r in rejects(result))
    assert rejects(result)[0]["data"]["cells"]["信用等级"] == "AAAA"
    assert [r["record_key"] for r in rejects(result)] == ["C1", "C2", None, "C4"]


def test_a_missing_drop_folder_fails_the_stream_in_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="credit_rating: drop folder .*nope does not exist"):
        run(config(tmp_path / "nope"))


def test_a_file_without_a_required_column_is_set_aside_whole(tmp_path):
    write_csv(tmp_path / "ratings" / "bad.csv", ["客户编码", "客户名称"], [["C1", "甲"]], encoding="utf-8")
    write_csv(tmp_path / "ratings" / "good.csv", RATING_HEADERS, [["C2", "乙", "", "A", "", "1", "1", "2026-01-01"]])
    (tmp_path / "ratings" / "notes.pdf").write_bytes(b"%PDF-1.4")
    result = run(config(tmp_path))
    assert [r["customer_code"] for r in result.records["credit_rating"]] == ["C2"]
    reasons = sorted(r["reason"] for r in rejects(result))
    assert reasons[0].startswith("ratings/bad.csv: no column for rating (信用等级")
    assert reasons[1] == "ratings/notes.pdf: unsupported file type .pdf; use .xlsx, .xlsm, .csv, .txt"


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    from connectors.tap_files import streams

    first = write_csv(tmp_path / "customers" / "a.csv", CUSTOMER_HEADERS, [["C1", "甲", "", "", ""]])
    write_csv(tmp_path / "customers" / "b.csv", CUSTOMER_HEADERS, [["C2", "乙", "", "", ""]])
    opened = helpers.record_results(monkeypatch, streams.FolderStream, "_read", lambda gen: gen)
    one = run(config(tmp_path))
    assert [r["code"] for r in one.records["customer_list"]] == ["C1", "C2"]
    files = one.state["bookmarks"]["customer_list"]["files"]
    assert set(files) == {"customers/a.csv", "customers/b.csv"} and len(files["customers/a.csv"]["sha256"]) == 64

    two = run(config(tmp_path), one.state)  # nothing changed
    assert "customer_list" not in two.records
    os.utime(first, (first.stat().st_atime, first.stat().st_mtime + 60))  # touched, same bytes
    three = run(config(tmp_path), two.state)
    assert "customer_list" not in three.records
    write_csv(tmp_path / "customers" / "b.csv", CUSTOMER_HEADERS, [["C2", "乙公司", "", "", ""]])
    four = run(config(tmp_path), three.state)
    assert four.records["customer_list"] == [{"code": "C2", "name": "乙公司"}]
    assert len(opened) == 3  # a.csv and b.csv once, then the changed b.csv


def test_unknown_shape_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown shape 'nope'"):
        _ = TapFiles(config={"folder": str(tmp_path), "streams": [{"name": "x", "pattern": "*", "shape": "nope"}]},
                 parse_env_config=False).streams


def test_connection_check_names_a_missing_folder(tmp_path):
    from connectors.check import check_source
    from connectors.sources import SourceConfig

    ok = check_source(SourceConfig(name="ratings", connector="files", config=config(tmp_path)))
    assert ok.ok, ok.message
    bad = check_source(SourceConfig(name="ratings", connector="files", config=config(tmp_path / "nope")))
    assert not bad.ok and "does not exist" in bad.message
