"""Write the result files of world-and-results.md: discrepancies.json and customers.json (the public
contract), and the human report — report.html (charts, offline), report.xlsx (for managers) and
report.md (the chat digest) — in Simplified Chinese by default or English.

Modules: ``data`` reads the warehouse, ``lookup`` finds each item's business context, ``items``
keeps the open items (in a temporary file when there are many) and adds them up, ``charts``
draws SVG, ``html`` / ``xlsx`` (on ``workbook``) / ``markdown`` / ``jsonfile`` write, ``store``
keeps the human files in ``report_file``, ``i18n`` holds every label.

Memory does not grow with the items (bench/findings.md, "Weekly report memory"): every file is
written piece by piece, none is ever whole in memory, and past 20k items neither are the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert

from quality.report.data import (
    ReportData,
    crosswalk_items,
    customer_crosswalk,
    gather,
    iso_local,
    money,
    open_discrepancies,
    week_end,
)
from quality.report.i18n import DEFAULT_LANG, LANGS, messages
from quality.report.jsonfile import write_json_array
from quality.report.store import CONTENT_TYPES, store_file

__all__ = ["CONTENT_TYPES", "LANGS", "ReportData", "ReportFiles", "customer_crosswalk", "iso_local", "money",
           "open_discrepancies", "week_end", "write_report"]


@dataclass
class ReportFiles:
    """What was written where (the CLI and Dagster print these numbers)."""

    out_dir: Path
    discrepancies: int
    customers: int
    files: list[Path]
    data: ReportData | None = None


def _record_run(engine: Engine, d: ReportData, lang: str, human: list[Path]) -> None:
    """Remember the report, with its human files (served by ``GET /reports``), in one transaction."""
    from hub_core.schema_report import report_run

    with engine.begin() as conn:
        report_id = conn.execute(insert(report_run).returning(report_run.c.id), {
            "as_of": d.as_of.astimezone(UTC), "since": d.since.astimezone(UTC), "generated_at": datetime.now(UTC),
            "lang": lang, "weekly": d.weekly, "open_count": d.counts["open"], "new_count": d.counts["new"],
            "persisting_count": d.counts["persisting"], "resolved_count": d.counts["resolved"],
            "amount_cents": d.total_cents}).scalar_one()
        for path in human:  # streamed in (a big world's page is ~100 MB)
            store_file(conn, report_id, path)


def write_report(engine: Engine, out_dir: Path, *, lang: str = DEFAULT_LANG, as_of: datetime | None = None,
                 since: datetime | None = None, weekly: bool = False,
                 held_back: list[str] | None = None) -> ReportFiles:
    """Write every result file into ``out_dir`` (created if needed) and remember this report.

    ``as_of`` defaults to the latest reconcile run; ``since`` (start of the window that decides
    new / resolved) to the previous report, or one week before ``as_of`` (always so with
    ``weekly``). ``held_back`` lists rules whose findings were not published (default: what the
    reconcile run recorded, if it records that).
    """
    from quality.report.html import write_html
    from quality.report.markdown import render_markdown
    from quality.report.xlsx import write_xlsx

    m = messages(lang)  # an unknown language fails before anything is written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = gather(engine, as_of=as_of, since=since, weekly=weekly, held_back=held_back)
    files = [out_dir / "discrepancies.json", out_dir / "customers.json", out_dir / "report.md",
             out_dir / "report.html", out_dir / "report.xlsx"]
    count = write_json_array(files[0], d.contract())
    with engine.connect() as conn:
        customers = write_json_array(files[1], crosswalk_items(conn))
    files[2].write_text(render_markdown(d, m), encoding="utf-8")
    write_html(files[3], d, m)
    write_xlsx(files[4], d, m)
    _record_run(engine, d, lang, files[2:])
    return ReportFiles(out_dir, count, customers, files, d)
