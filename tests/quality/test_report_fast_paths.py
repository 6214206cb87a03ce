"""The report's quick ways of writing its items give what the general ways gave: amounts as the
Decimal forms wrote them, discrepancies.json's order as a sort by its key, report.xlsx's item rows
as ``Workbook.prepare`` made them (every part of the package byte for byte), report.html's item
tables as one row after another."""

import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert

import quality.report.xlsx as xlsx
from hub_core.schema import discrepancy
from quality.report import write_report
from quality.report.data import OpenItem, _contract_key, contract_order, gather
from quality.report.html import item_row, item_rows
from quality.report.i18n import messages
from quality.report.items import ItemStore
from quality.report.texts import money, yuan
from quality.report.workbook import Workbook
from tests.quality.report_seed import AS_OF, seed

CENTS = [0, 1, -1, 5, -5, 99, 100, -100, 101, 123456789, -123456789, 10**17 + 7, -(10**18) - 3, 999_999_999_999]


@pytest.mark.parametrize("cents", CENTS + random.Random(7).sample(range(-10**12, 10**12), 200))
def test_amounts_are_the_decimal_texts(cents):
    assert money(cents) == str((Decimal(cents) / 100).quantize(Decimal("0.01")))
    assert yuan(cents) == f"{Decimal(cents) / 100:,.2f}"


def _item(n: int, **over) -> OpenItem:
    first = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=7 * (n % 5))
    values = {"rule": ["R1", "R10", "R2", "R01", "R9"][n % 5], "severity": ["red", "orange", "yellow", "odd"][n % 4],
              "customer_id": f"C{n % 7}", "customer_name": f"恒通{n % 7}建材", "owner": ["王芳", None, "李强"][n % 3],
              "region": "华东大区", "cents": [500, 500, -5, 0, 10**12][n % 5], "ref_tuple": (f"crm:x:{n % 6}", f"u8:y:{n}"),
              "first_utc": first, "status": "open", "manager": None, "deal": None, "stage": None, "close_date": None,
              "documents": "", "age_days": n % 3, "change": "new"}
    return OpenItem(**(values | over))


def test_discrepancies_order_is_a_stable_sort_by_its_key():
    items = [_item(n) for n in range(60)]
    ordered = sorted(items, key=lambda i: (["red", "orange", "yellow"].index(i.severity) if i.severity != "odd" else 9,
                                           -i.cents, i.rule, i.ref_tuple[0]))
    store = ItemStore(OpenItem)
    for i in ordered:
        store.add(i)
    store.by_rule = {}
    for position, i in enumerate(ordered):
        store.by_rule.setdefault(i.rule, []).append(position)
    expected = sorted(range(len(ordered)), key=lambda k: _contract_key(ordered[k]))
    assert list(contract_order(store)) == expected  # R1 and R01 share a number: merged by the key
    assert list(contract_order(ordered)) == expected  # items without groups: sorted


HOSTILE = [
    {}, {"customer_name": None, "owner": None, "documents": "", "deal": "", "stage": "negotiation"},
    {"customer_name": " lead\x01ing ", "deal": "a\nb <&> 'q'", "documents": "SO1 DN2", "close_date": date(2026, 1, 2)},
    {"customer_name": "\x02", "severity": "odd", "cents": -1, "age_days": 0, "change": "persisting", "stage": "x"},
    {"manager": "周总监", "region": None, "ref_tuple": ("crm:only",), "status": "acknowledged"},
]


def test_xlsx_item_rows_are_the_general_rows():
    m = messages("zh")
    fast, general = (xlsx._ItemRows(Workbook(), m, None) for _ in range(2))
    items = [_item(n, **over) for n in range(40) for over in HOSTILE]
    for i in items:
        row, widths = fast._open_item(i)
        assert (row, widths) == general._general(dict(i)), i
    assert fast.wb._styles == general.wb._styles  # the same styles, registered in the same order


def _report_parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_workbook_parts_equal_the_general_writer_s(engine, tmp_path, monkeypatch):
    seed(engine, items=60)
    with engine.begin() as conn:  # a long refs text: its column stops at the widest width
        conn.execute(insert(discrepancy), {
            "discrepancy_id": "R2|u8:x", "rule": "R2", "severity": "orange", "customer_id": None,
            "customer_name": None, "owner": None, "region": None, "amount_cents": 7, "refs": '["u8:' + "x" * 90 + '"]',
            "first_seen": AS_OF.astimezone(UTC) - timedelta(days=3), "last_seen": AS_OF.astimezone(UTC),
            "status": "open"})
    window = {"as_of": AS_OF, "since": AS_OF - timedelta(days=7)}  # the second report: the same window
    write_report(engine, tmp_path / "fast", **window)
    monkeypatch.setattr(xlsx, "OpenItem", type("NotAnItem", (), {}))  # every item through the general path
    monkeypatch.setattr(xlsx, "_READ_SPAN", 1)  # and every row read back on its own
    write_report(engine, tmp_path / "general", **window)
    assert _report_parts(tmp_path / "fast" / "report.xlsx") == _report_parts(tmp_path / "general" / "report.xlsx")
    assert b'width="60"' in _report_parts(tmp_path / "fast" / "report.xlsx")["xl/worksheets/sheet2.xml"]


def test_html_item_tables_are_their_rows_one_after_another(engine, monkeypatch):
    seed(engine, items=30)
    d = gather(engine, as_of=AS_OF)
    m = messages("en")
    monkeypatch.setattr("quality.report.html._ROWS", 4)
    rows = [str(item_row(i, m)) + "\n" for i in d.items]
    assert "".join(item_rows(d.items, m)) == "".join(rows)
    assert "".join(item_rows(d.items, m, new_only=True)) == "".join(
        r for r, i in zip(rows, d.items, strict=True) if i.change == "new")
    assert len(list(item_rows(d.items, m))) == -(-len(rows) // 4)
    assert list(item_rows([], m)) == []
