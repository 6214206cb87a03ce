"""The report's landing-quality line: open quarantine entries and the last sync's drift events
per source, in both languages, in report.md and report.html."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from hub_core.schema import raw_reject, sync_run
from quality.report import write_report
from quality.report.i18n import messages
from tests.quality.report_seed import seed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quarantine_and_drift_are_in_the_digest_and_the_page(engine, tmp_path, lang):
    seed(engine, items=3)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        run = conn.execute(insert(sync_run).returning(sync_run.c.id), {
            "source": "erp", "started_at": now, "finished_at": now, "status": "partial", "records_seen": 3,
            "records_landed": 1, "records_rejected": 2, "records_quarantined": 2, "drift_events": 1}).scalar_one()
        conn.execute(insert(raw_reject), [
            {"source": "erp", "stream": "orders", "record_key": key, "reason": "x", "data": "{}", "sync_run_id": run,
             "rejected_at": now, "status": status, "fingerprint": key}
            for key, status in (("A", "open"), ("B", "open"), ("C", "replayed"))])
    write_report(engine, tmp_path, lang=lang)
    m = messages(lang)
    line = m("landing_line", source="erp", quarantined=2, drift=1)
    assert line in (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert line in page and m.word("status", "partial") in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_withheld_deletions_are_in_the_digest_the_page_and_the_workbook(engine, tmp_path, lang):
    import json

    from openpyxl import load_workbook

    seed(engine, items=3)
    now = datetime.now(UTC)
    withheld = {"customer": {"withheld": 54, "live": 60}, "saleorderlist": {"withheld": 3, "live": 10}}
    with engine.begin() as conn:
        conn.execute(insert(sync_run), {
            "source": "u8", "started_at": now, "finished_at": now, "status": "succeeded", "records_seen": 13,
            "records_landed": 13, "records_rejected": 0, "deletions_withheld": json.dumps(withheld)})
    write_report(engine, tmp_path, lang=lang)
    m = messages(lang)
    line = m("deletions_withheld", source="u8", count=57)
    other = m("deletions_withheld", source="crm", count=0).split("0")[0]  # no line for a source withholding none
    assert line in (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert line in page and other not in page
    summary = load_workbook(tmp_path / "report.xlsx").worksheets[0]
    cells = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert cells.count(line) == 1 and not any(c.startswith(other) for c in cells)
    assert summary.column_dimensions["A"].width < 40  # the sentence overflows, it does not widen column A
