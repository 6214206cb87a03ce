"""The human report survives hostile source data."""

from datetime import UTC, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import insert

from hub_core.schema import customer
from hub_core.schema_unified import opportunity
from quality.reconcile import reconcile
from quality.report import write_report
from quality.report.i18n import messages

T = datetime(2026, 11, 20, 9, tzinfo=timezone(timedelta(hours=8)))


def test_names_are_escaped_in_html_and_cleaned_in_xlsx(engine, tmp_path):
    name = "<script>alert(1)</script>恒通\x01建材|分公司\n"
    with engine.begin() as conn:
        conn.execute(insert(customer), [{"customer_id": "C1", "name": name, "uscc": None, "owner_employee_id": None,
                                         "record_count": 1, "needs_review": False}])
        conn.execute(insert(opportunity), [{
            "ref": "crm:NewOpportunityObj:o1", "customer_id": "C1", "amount_cents": 123456789,
            "status": "won", "close_at": (T - timedelta(days=3)).astimezone(UTC),
            "close_day": (T - timedelta(days=3)).date(), "is_deleted": False}])
    reconcile(engine, as_of=T, rules=["R1"])
    files = write_report(engine, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "\x01" not in html
    ws = load_workbook(tmp_path / "report.xlsx")[messages()("sheets.all")]  # the all-items sheet
    assert ws["D2"].value == "<script>alert(1)</script>恒通建材|分公司\n"
    md_rows = [line for line in (tmp_path / "report.md").read_text(encoding="utf-8").splitlines() if "R1" in line]
    assert any("恒通" in row and "建材\\|分公司" in row for row in md_rows)  # one row, pipe escaped
    assert float(ws["G2"].value) == 1234567.89
    assert files.discrepancies == 1


def test_naive_as_of_is_refused(engine):
    import pytest

    with pytest.raises(ValueError, match="timezone"):
        reconcile(engine, as_of=datetime(2026, 11, 20, 9))
