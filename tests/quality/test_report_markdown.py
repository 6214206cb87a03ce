"""The chat digest fits one WeCom markdown message, however many items there are."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from hub_core.schema import sync_run
from quality.report import write_report
from quality.report.data import gather
from quality.report.i18n import messages
from quality.report.markdown import md_cell, render_markdown
from tests.quality.report_seed import seed

LIMIT = 4096


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_many_items_are_cut_gracefully_below_the_limit(engine, tmp_path, lang):
    seed(engine, items=400)
    write_report(engine, tmp_path, lang=lang)
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= LIMIT
    m = messages(lang)
    starts = tuple(f"| {m.word('severity', s)} |" for s in ("red", "orange", "yellow"))
    item_rows = [line for line in text.splitlines() if line.startswith(starts)]
    d = gather(engine)
    assert 0 < len(item_rows) < len(d.items)
    assert m("and_more", n=len(d.items) - len(item_rows)) in text  # the count of what was left out is exact
    assert text.rstrip().endswith(m("customers_line", customers=d.customer_count, review=d.review_count))


def test_a_smaller_budget_still_holds_and_says_how_many_are_missing(engine):
    seed(engine, items=50)
    d = gather(engine)
    m = messages("en")
    for limit in (4096, 2500, 1800):
        text = render_markdown(d, m, max_bytes=limit)
        assert len(text.encode("utf-8")) <= limit
        assert "…and " in text


def test_too_many_sources_alone_are_cut_too(engine):
    seed(engine, items=3)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(sync_run), [{"source": f"source-with-a-long-name-{n:03d}", "started_at": now,
                                         "finished_at": now - timedelta(hours=n), "status": "succeeded",
                                         "records_seen": 1, "records_landed": 1, "records_rejected": 0}
                                        for n in range(200)])
    text = render_markdown(gather(engine), messages("zh"))
    assert len(text.encode("utf-8")) <= LIMIT and text.rstrip().endswith("…")


def test_all_items_shown_when_they_fit(engine, tmp_path):
    seed(engine, items=6)
    write_report(engine, tmp_path, lang="en")
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "…and" not in text and text.count("| R") >= 6


def test_source_text_cannot_break_the_table_or_add_markup():
    cell = md_cell("a|b\nc\x01d *bold* [link](http://x) <font color=\"red\">`x`</font>", limit=200)
    assert "\n" not in cell and "\x01" not in cell
    assert cell.count("|") == cell.count("\\|") == 1
    assert "\\*bold\\*" in cell and "\\[link\\]" in cell and "\\<font" in cell and "\\`x\\`" in cell
    assert md_cell("很长的公司名称" * 10, limit=10) == "很长的公司名称很长…"
