"""Discrepancies (reading and working them) and sync runs.

Every query carries the caller's scope (``hub_api.scope``) in its WHERE clause; an id outside the
scope answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, func, insert, or_, select, update

from hub_api import audit, paging
from hub_api.deps import COMMON_RESPONSES, Conn, require
from hub_api.keys import Principal
from hub_api.models import (
    DiscrepancyDetail,
    DiscrepancyPage,
    RunDetail,
    RunPage,
    aware,
    discrepancy_out,
    drift_out,
    run_out,
)
from hub_api.scope import discrepancy_scope
from hub_core.schema import discrepancy, sync_run
from hub_core.schema_api import discrepancy_note
from hub_core.schema_quarantine import schema_drift

router = APIRouter(responses=COMMON_RESPONSES)

Text = Annotated[str, Query(min_length=1, max_length=200)]
IdPath = Annotated[str, Path(min_length=1, max_length=500)]
#: Drift events listed with a run: a tap with dynamic field names can drift in thousands of ways.
MAX_DRIFT_LISTED = 100


def _page(conn: Connection, query, count_query, limit: int):
    rows = conn.execute(query.limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit, conn.execute(count_query).scalar_one()


Count = Annotated[bool | None, Query(description=(
    "Whether to count `total`. Default: on the first page only (no `cursor`); later pages answer "
    "`total: null`, as counting every row in scope again costs more than the page itself. "
    "`true` counts on every page, `false` on none."))]


_SORT_KEYS = {"amount": discrepancy.c.amount_cents, "age": discrepancy.c.first_seen}


@router.get("/discrepancies", response_model=DiscrepancyPage, tags=["data"])
def list_discrepancies(
    who: Annotated[Principal, Depends(require("discrepancies:read"))],
    conn: Conn,
    rule: Annotated[list[Annotated[str, Field(max_length=10)]] | None, Query(max_length=20)] = None,
    severity: Annotated[list[Literal["red", "orange", "yellow"]] | None, Query()] = None,
    status: Annotated[list[Literal["open", "acknowledged", "resolved"]] | None, Query()] = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=200, description="Owner's name.")] = None,
    region: Text | None = None,
    sort: Annotated[Literal["amount", "age"], Query(description="amount: largest first; age: oldest first.")] = "amount",
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
    count: Count = None,
) -> dict:
    """Discrepancies in the caller's scope, filtered and sorted, a page at a time; ``total`` (all
    matching rows in scope) on the first page unless ``count`` says otherwise."""
    d = discrepancy.c
    where = [discrepancy_scope(who)]
    for column, values in ((d.rule, rule), (d.severity, severity), (d.status, status)):
        if values:
            where.append(column.in_(values))
    if owner is not None:
        where.append(d.owner == owner)
    if region is not None:
        where.append(d.region == region)
    counting = select(func.count()).select_from(discrepancy).where(*where) if (
        count if count is not None else cursor is None) else None
    key = _SORT_KEYS[sort]
    descending = sort == "amount"
    if cursor is not None:
        value, after = paging.decode(f"discrepancies:{sort}", cursor, [int if sort == "amount" else datetime, str])
        if descending:
            where.append(or_(key < value, and_(key == value, d.discrepancy_id > after)))
        else:
            where.append(or_(key > value, and_(key == value, d.discrepancy_id > after)))
    query = (select(discrepancy).where(*where)
             .order_by(key.desc() if descending else key.asc(), d.discrepancy_id))
    rows = conn.execute(query.limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    total = conn.execute(counting).scalar_one() if counting is not None else None
    last = rows[-1] if more else None
    return {"items": [discrepancy_out(r) for r in rows], "total": total,
            "next_cursor": paging.encode(f"discrepancies:{sort}", [getattr(last, key.name), last.discrepancy_id])
            if last else None}


def _scoped_discrepancy(conn: Connection, who: Principal, discrepancy_id: str):
    row = conn.execute(select(discrepancy).where(discrepancy.c.discrepancy_id == discrepancy_id,
                                                 discrepancy_scope(who))).first()
    if row is None:
        raise HTTPException(404, "no such discrepancy")
    return row


def _detail(conn: Connection, row) -> dict:
    notes = conn.execute(select(discrepancy_note.c.action, discrepancy_note.c.comment, discrepancy_note.c.actor,
                                discrepancy_note.c.at)
                         .where(discrepancy_note.c.discrepancy_id == row.discrepancy_id)
                         .order_by(discrepancy_note.c.id)).all()
    return {**discrepancy_out(row), "notes": [{**n._mapping, "at": aware(n.at)} for n in notes]}


@router.get("/discrepancies/{discrepancy_id:path}", response_model=DiscrepancyDetail, tags=["data"],
            responses={404: {"description": "No such discrepancy in the caller's scope."}})
def get_discrepancy(discrepancy_id: IdPath, who: Annotated[Principal, Depends(require("discrepancies:read"))],
                    conn: Conn) -> dict:
    """One discrepancy in scope, with the notes left when it was acknowledged or resolved."""
    return _detail(conn, _scoped_discrepancy(conn, who, discrepancy_id))


class NoteIn(BaseModel):
    """Why the discrepancy is acknowledged or resolved."""

    comment: str = Field(min_length=1, max_length=2000)


def _work(conn: Connection, who: Principal, discrepancy_id: str, note: NoteIn, action: str) -> dict:
    row = _scoped_discrepancy(conn, who, discrepancy_id)
    if row.status == "resolved":
        raise HTTPException(409, "the discrepancy is already resolved")
    if row.status == action:
        raise HTTPException(409, f"the discrepancy is already {action}")
    now = datetime.now(UTC)
    values = {"status": action, **({"resolved_at": now} if action == "resolved" else {})}
    # Conditional on the status just read: of two people working the same item at once, one wins.
    changed = conn.execute(update(discrepancy).where(discrepancy.c.discrepancy_id == discrepancy_id,
                                                     discrepancy.c.status == row.status).values(**values)).rowcount
    if changed != 1:
        conn.rollback()
        raise HTTPException(409, "the discrepancy changed meanwhile; reload it")
    conn.execute(insert(discrepancy_note).values(discrepancy_id=discrepancy_id, action=action, comment=note.comment,
                                                 actor=who.actor, at=now))
    audit.record(conn, actor=who.actor, action=f"discrepancy.{action}", target=f"discrepancy:{discrepancy_id}",
                 detail={"status": [row.status, action], "comment": note.comment})
    conn.commit()
    return _detail(conn, _scoped_discrepancy(conn, who, discrepancy_id))


_WORK_RESPONSES = {404: {"description": "No such discrepancy in the caller's scope."},
                   409: {"description": "Already in that state or resolved."}}


@router.post("/discrepancies/{discrepancy_id:path}/ack", response_model=DiscrepancyDetail, tags=["data"],
             responses=_WORK_RESPONSES)
def acknowledge(discrepancy_id: IdPath, note: NoteIn, who: Annotated[Principal, Depends(require("discrepancies:act"))],
                conn: Conn) -> dict:
    """Acknowledge an open discrepancy: someone is on it. The comment says who and what."""
    return _work(conn, who, discrepancy_id, note, "acknowledged")


@router.post("/discrepancies/{discrepancy_id:path}/resolve", response_model=DiscrepancyDetail, tags=["data"],
             responses=_WORK_RESPONSES)
def resolve(discrepancy_id: IdPath, note: NoteIn, who: Annotated[Principal, Depends(require("discrepancies:act"))],
            conn: Conn) -> dict:
    """Mark a discrepancy resolved. If the next reconciliation still finds it, it opens again."""
    return _work(conn, who, discrepancy_id, note, "resolved")


@router.get("/runs", response_model=RunPage, tags=["runs"])
def list_runs(
    who: Annotated[Principal, Depends(require("runs:read"))],
    conn: Conn,
    source: Text | None = None,
    status: Annotated[Literal["running", "succeeded", "partial", "failed"] | None, Query()] = None,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> dict:
    """Sync runs, newest first."""
    where = []
    if source is not None:
        where.append(sync_run.c.source == source)
    if status is not None:
        where.append(sync_run.c.status == status)
    count = select(func.count()).select_from(sync_run).where(*where)
    if cursor is not None:
        [before] = paging.decode("runs", cursor, [int])
        where.append(sync_run.c.id < before)
    rows, more, total = _page(conn, select(sync_run).where(*where).order_by(sync_run.c.id.desc()), count, limit)
    return {"items": [run_out(r) for r in rows], "total": total,
            "next_cursor": paging.encode("runs", [rows[-1].id]) if more else None}


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["runs"],
            responses={404: {"description": "No such run."}})
def get_run(run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: Annotated[Principal, Depends(require("runs:read"))],
            conn: Conn) -> dict:
    """One sync run, with its schema drift events (the most frequent first, at most 100)."""
    row = conn.execute(select(sync_run).where(sync_run.c.id == run_id)).first()
    if row is None:
        raise HTTPException(404, "no such run")
    d = schema_drift.c
    drift = conn.execute(select(schema_drift).where(d.sync_run_id == run_id)
                         .order_by(d.records.desc(), d.id).limit(MAX_DRIFT_LISTED + 1)).all()
    return {**run_out(row), "drift": [drift_out(r) for r in drift[:MAX_DRIFT_LISTED]],
            "drift_more": len(drift) > MAX_DRIFT_LISTED}

