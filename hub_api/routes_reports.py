"""The weekly consistency reports that were produced, and their files (html, xlsx, md).

Who may read them (``reports:read`` in roles.yaml): admin, hq and dashboard. A report lists every
open discrepancy of the company with owners, regions and amounts, written for sales managers and
directors; business-rules.md ("Data visibility") limits a regional manager to their region and a
rep to their own customers, and finance sees only its rules, so those roles get 403 here and read
the same items, scoped, through ``GET /discrepancies``. The files are served from the warehouse
(``report_file``), exactly as the report run wrote them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select

from hub_api import paging
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models import aware
from hub_core.schema_api_reports import report_file
from hub_core.schema_report import report_run
from quality.report import CONTENT_TYPES, money
from quality.report.data import local

router = APIRouter(responses=COMMON_RESPONSES, tags=["reports"])
Format = Literal["html", "xlsx", "md"]


class ReportFileOut(BaseModel):
    """One file of a report; ``url`` downloads it."""

    format: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class ReportOut(BaseModel):
    """A produced report. ``week`` is the ISO week it covers: that of the day before its as-of
    (local time), so a Monday-morning weekly report is the previous week's."""

    id: int
    week: str
    as_of: datetime
    since: datetime
    weekly: bool
    language: str
    created: datetime
    open_count: int
    new_count: int
    persisting_count: int
    resolved_count: int
    amount_cny: str
    files: list[ReportFileOut]


class ReportPage(BaseModel):
    """A page of reports, newest first."""

    items: list[ReportOut]
    total: int
    next_cursor: str | None


def iso_week(as_of: datetime) -> str:
    """The ISO week (``2026-W45``) a report with this as-of covers."""
    year, week, _ = (local(aware(as_of)) - timedelta(days=1)).isocalendar()
    return f"{year}-W{week:02d}"


@router.get("/reports", response_model=ReportPage)
def list_reports(
    who: Annotated[Principal, Depends(require("reports:read"))],
    conn: Conn,
    language: Annotated[str | None, Query(min_length=1, max_length=10, description="e.g. zh, en")] = None,
    weekly: Annotated[bool | None, Query(description="Only the scheduled weekly reports (or only the others).")] = None,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> dict:
    """Produced reports, newest first, with the files each one can be downloaded as."""
    r = report_run.c
    where = []
    if language is not None:
        where.append(r.lang == language)
    if weekly is not None:
        where.append(r.weekly.is_(weekly))
    total = conn.execute(select(func.count()).select_from(report_run).where(*where)).scalar_one()
    if cursor is not None:
        [before] = paging.decode("reports", cursor, [int])
        where.append(r.id < before)
    rows = conn.execute(select(report_run).where(*where).order_by(r.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    f = report_file.c
    files: dict[int, list[dict]] = {}
    if rows:
        for row in conn.execute(select(f.report_id, f.format, f.name, f.content_type, f.size_bytes, f.sha256)
                                .where(f.report_id.in_([x.id for x in rows])).order_by(f.report_id, f.format)):
            files.setdefault(row.report_id, []).append(
                {**row._mapping, "url": f"/reports/{row.report_id}/{row.format}"})
    items = [{"id": x.id, "week": iso_week(x.as_of), "as_of": aware(x.as_of), "since": aware(x.since),
              "weekly": bool(x.weekly), "language": x.lang, "created": aware(x.generated_at),
              "open_count": x.open_count, "new_count": x.new_count, "persisting_count": x.persisting_count,
              "resolved_count": x.resolved_count, "amount_cny": money(x.amount_cents),
              "files": [{k: v for k, v in d.items() if k != "report_id"} for d in files.get(x.id, [])]}
             for x in rows]
    return {"items": items, "total": total, "next_cursor": paging.encode("reports", [rows[-1].id]) if more else None}


@router.get("/reports/{report_id}/{format}", response_class=Response,
            responses={200: {"description": "The file as the report run wrote it.",
                             "content": {t.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                                         for t in CONTENT_TYPES.values()}},
                       404: {"description": "No such report, or it was produced without that file."}})
def download_report(report_id: Annotated[int, Path(ge=1, le=2**31 - 1)], format: Format,
                    who: Annotated[Principal, Depends(require("reports:read"))], conn: Conn) -> Response:
    """One file of a report: ``html`` (charts, works offline), ``xlsx`` (for managers) or ``md``
    (the chat digest)."""
    f = report_file.c
    row = conn.execute(select(f.content, f.content_type, f.name)
                       .where(f.report_id == report_id, f.format == format)).first()
    if row is None:
        raise HTTPException(404, "no such report file")
    stem = row.name.rsplit(".", 1)[0]
    return Response(content=bytes(row.content), media_type=row.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{stem}-{report_id}.{format}"'})
