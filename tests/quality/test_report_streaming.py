"""The report's files written piece by piece are what the whole-in-memory writers wrote."""

import hashlib
import json
import random
import re
import zipfile
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, insert, select

from hub_core.schema import customer, customer_xref
from hub_core.schema_api_reports import report_file
from hub_core.schema_report import report_run
from quality.report import write_report
from quality.report.data import OpenItem, crosswalk_items, gather
from quality.report.html import render_html
from quality.report.i18n import messages
from quality.report.items import ItemStore
from quality.report.jsonfile import write_json_array
from quality.report.store import store_file
from quality.report.workbook import Style, Workbook
from tests.quality.report_seed import AS_OF, seed

LISTS = [
    [],
    [{}],
    [{"a": []}],
    [{"rule": "R1", "name": "恒通\n\"建材\"\t<&>\u2028", "refs": ["crm:x", "u8:y:z"], "n": 1.5, "none": None,
      "nested": {"k": [1, {"x": []}]}, "flag": True}] * 3,
    [1, "two", [3, [4]], None],
]


@pytest.mark.parametrize("items", LISTS)
def test_json_array_bytes_equal_json_dumps(tmp_path, items):
    path = tmp_path / "x.json"
    assert write_json_array(path, iter(items)) == len(items)
    assert path.read_bytes() == json.dumps(items, ensure_ascii=False, indent=1).encode("utf-8")


class _Text(str):
    pass


FLAT = [
    {"rule": "R1", "name": "恒通\n\"建材\"\t<&>\u2028\x00\\", "refs": ["crm:x", "u8:\u00e9"], "n": 1.5, "none": None,
     "t": True, "f": False, "big": 10**30, "neg": -0.0, "tiny": 1e-300, "empty": [], "mixed": [1, 2.5, None, True, "x"]},
    {"nan": float("nan"), "inf": [float("-inf")]},  # json's own spelling (NaN, -Infinity): handed to json
    {1: "int key", None: "none key", 2.5: "float key"},  # non-str keys: json converts them
    {"sub": _Text("a str subclass"), "tuple": (1, 2), "nested": {"a": {}}},
    {"键": "值", "": ""},
]


@pytest.mark.parametrize("item", FLAT)
def test_the_flat_object_encoder_writes_json_dumps_bytes(tmp_path, item):
    from quality.report.jsonfile import encode

    assert encode(item) == json.dumps(item, ensure_ascii=False, indent=1)
    write_json_array(tmp_path / "x.json", [item, item])
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == json.dumps([item, item], ensure_ascii=False, indent=1)


def test_the_flat_object_encoder_fails_as_json_does():
    from decimal import Decimal

    from quality.report.jsonfile import encode

    with pytest.raises(TypeError, match="Decimal"):
        encode({"amount": Decimal("1.5")})


def test_an_open_item_s_contract_object_is_its_contract_keys_in_order(engine):
    from quality.report.data import CONTRACT_KEYS

    seed(engine, items=30)
    items = list(gather(engine, as_of=AS_OF).items)
    assert items and all(type(i) is OpenItem for i in items)
    for i in items:
        made = i.as_contract()
        assert list(made.items()) == [(k, i[k]) for k in CONTRACT_KEYS]


def test_json_array_of_many_items_is_flushed_whole(tmp_path):
    items = [{"i": n, "refs": [f"r{n}"]} for n in range(2500)]
    write_json_array(tmp_path / "x.json", items)
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == json.dumps(items, ensure_ascii=False, indent=1)


def test_crosswalk_is_in_python_order_with_every_ref(engine):
    ids = ["C9", "C10", "c-1", "C_1", "a", "Z", "é1", "中1", "C 2", "~"]
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": cid, "name": f"n{cid}", "record_count": 1,
                                         "needs_review": False} for cid in ids])
        conn.execute(insert(customer_xref), [
            {"ref": f"crm:a:{n:02d}{k}", "customer_id": cid, "system": "crm", "match_method": "own"}
            for n, cid in enumerate(ids) if cid != "Z" for k in range(n % 3 + 1)]
            + [{"ref": "crm:a:zz", "customer_id": "B-gone", "system": "crm", "match_method": "own"}])
        got = list(crosswalk_items(conn))
    expected = [{"customer_id": cid, "name": f"n{cid}",
                 "refs": [] if cid == "Z" else [f"crm:a:{ids.index(cid):02d}{k}" for k in range(ids.index(cid) % 3 + 1)]}
                for cid in sorted(ids)]
    assert got == expected


def test_open_items_read_as_mappings(engine):
    seed(engine, items=12)
    d = gather(engine)
    i = d.items[0]
    assert isinstance(i, OpenItem) and dict(i)["rule"] == i.rule == i["rule"] == i[0]
    assert set(dict(i)) >= {"rule", "amount", "amount_cny", "first_seen", "first_seen_local", "refs", "documents"}
    assert i["amount_cny"] == f"{i['cents'] / 100:.2f}" and isinstance(i["first_seen_local"], datetime)
    with pytest.raises(KeyError):
        i["nothing"]


def test_page_file_is_the_rendered_page(engine, tmp_path):
    seed(engine, items=25)
    files = write_report(engine, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page == render_html(files.data, messages("zh"))
    assert page.count('<tr class="') == files.data.counts["new"] * 2 + files.data.counts["persisting"] \
        + files.data.counts["resolved"]


def test_streamed_sheet_reads_back_like_an_appended_one(tmp_path):
    wb = Workbook()
    small, big = wb.add_sheet("small"), wb.add_sheet("big")
    small.append(["x"])
    big.append(["h1", "h2"], {1: Style(bold_color="FFFFFF", fill="1F4E78")})
    big.count, big.widths, big.freeze, big.auto_filter = 1 + 3000, {1: 9.0, 2: 14.0}, "A2", True
    rows = (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>v{n}</t></is></c><c r="B{n}" t="n"><v>{n}</v></c></row>'
            .encode() for n in range(2, 3002))
    with wb.open(tmp_path / "x.xlsx") as package:
        package.write(small)
        package.write(big, rows)
    back = load_workbook(tmp_path / "x.xlsx")
    assert back.sheetnames == ["small", "big"]
    ws = back["big"]
    assert ws.max_row == 3001 and ws["A3001"].value == "v3001" and ws["B2"].value == 2 and ws["A1"].font.bold
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:B3001" and ws.column_dimensions["B"].width == 14


def test_sheets_are_written_in_the_order_they_were_added(tmp_path):
    wb = Workbook()
    first, second = wb.add_sheet("a"), wb.add_sheet("b")
    with pytest.raises(ValueError), wb.open(tmp_path / "x.xlsx") as package:
        package.write(second)
    assert first.title == "a"


def test_report_files_are_stored_as_written(engine, tmp_path):
    seed(engine, items=20)
    write_report(engine, tmp_path)
    with engine.connect() as conn:
        rows = conn.execute(select(report_file)).all()
    assert sorted(r.name for r in rows) == ["report.html", "report.md", "report.xlsx"]
    for r in rows:
        content = (tmp_path / r.name).read_bytes()
        assert bytes(r.content) == content and r.size_bytes == len(content)
        assert r.sha256 == hashlib.sha256(content).hexdigest()


def test_a_file_of_many_chunks_and_an_empty_one_are_stored_whole(engine, tmp_path):
    seed(engine, items=3)
    write_report(engine, tmp_path / "out")
    big = tmp_path / "big.html"
    big.write_bytes(random.Random(1).randbytes(2_500_000) + b"\\\t\n\x00end")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with engine.begin() as conn:
        report_id = conn.execute(select(report_run.c.id)).scalar_one()
        conn.execute(delete(report_file))
        store_file(conn, report_id, big)
        store_file(conn, report_id, empty)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(report_file.c.name, report_file.c.content)).all())
    assert bytes(stored["big.html"]) == big.read_bytes() and bytes(stored["empty.md"]) == b""


def test_postgres_stores_report_files_compressed_with_lz4_and_puts_the_setting_back(engine, tmp_path):
    """Binary COPY with lz4 TOAST compression, for this row only: the session's default comes back
    and the bytes read back are the file's."""
    from sqlalchemy import func, text

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's TOAST compression")
    seed(engine, items=3)
    write_report(engine, tmp_path / "out")
    page = tmp_path / "page.html"
    page.write_bytes(("<tr><td>恒通建材</td><td>R7</td></tr>\n" * 40_000).encode())
    with engine.begin() as conn:
        lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                "WHERE name = 'default_toast_compression'")).scalar()
        before = conn.execute(text("SHOW default_toast_compression")).scalar()
        report_id = conn.execute(select(report_run.c.id)).scalar_one()
        conn.execute(delete(report_file).where(report_file.c.format == "html"))
        store_file(conn, report_id, page)
        assert conn.execute(text("SHOW default_toast_compression")).scalar() == before
    with engine.connect() as conn:
        content, method = conn.execute(select(report_file.c.content, func.pg_column_compression(report_file.c.content))
                                       .where(report_file.c.name == "page.html")).one()
    assert bytes(content) == page.read_bytes()
    assert method == ("lz4" if lz4 else "pglz")


@pytest.mark.parametrize("spill_after", [3, 100])
def test_item_store_orders_slices_and_sorts_like_a_list(spill_after):
    store = ItemStore(lambda *values: values, spill_after=spill_after)
    values = [(n % 3, f"r{n}", None, datetime(2026, 1, 1 + n)) for n in range(7)]
    for v in values:
        store.append(v)
    store.order([(v[0], v[1]) for v in values])
    expected = sorted(values)
    assert list(store) == expected and len(store) == 7 and store.spilled == (spill_after < 7)
    assert store[0] == expected[0] and store[-1] == expected[-1] and store[2:5] == expected[2:5]
    assert list(store.sorted_by(lambda v: v[3])) == values
    with pytest.raises(IndexError):
        store[7]


def test_spilled_items_write_the_same_files(engine, tmp_path, monkeypatch):
    seed(engine, items=40)
    since = AS_OF - timedelta(days=7)  # the second report would otherwise start where the first ended
    write_report(engine, tmp_path / "memory", since=since)
    monkeypatch.setattr("quality.report.items.SPILL_AFTER", 5)
    files = write_report(engine, tmp_path / "spilled", since=since)
    assert files.data.items.spilled
    for name in ("discrepancies.json", "customers.json", "report.md"):
        assert (tmp_path / "memory" / name).read_bytes() == (tmp_path / "spilled" / name).read_bytes()
    pages = [re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d</p>", "", (tmp_path / d / "report.html").read_text(encoding="utf-8"), count=1)
             for d in ("memory", "spilled")]
    assert pages[0] == pages[1]
    books = [zipfile.ZipFile(tmp_path / d / "report.xlsx") for d in ("memory", "spilled")]
    assert books[0].namelist() == books[1].namelist()
    assert all(books[0].read(n) == books[1].read(n) for n in books[0].namelist())
