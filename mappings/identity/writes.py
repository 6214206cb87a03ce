"""The tables a customer resolution writes - review queue, crosswalk, customers and golden fields -
made from the engine's clusters and their ids, a chunk of customers at a time.

Split from resolve.py. Each table is written by difference (store.sync_rows): a chunk compares
its desired rows with the stored rows of its own refs and ids, so the tables end exactly as one
comparison of everything would leave them, while only one chunk's rows (staged, desired and
stored) are in memory at once: at 100k customers the whole of them (600k golden-field rows
alone) outweighed the matching. A full resolution reads the staged rows of a chunk back from
``customer_record`` (records.stage_streaming keeps none); an incremental one has them at hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from hub_core.schema import customer, customer_review, customer_xref
from hub_core.schema_identity import customer_golden_field
from hub_core.sql import among
from mappings.identity.golden import customer_row, golden_fields, stamp_changes
from mappings.identity.store import count_rows, sync_golden, sync_rows, table_rows

CHUNK = 5000  # customers written at a time


@dataclass
class Written:
    """What the writes did: rows written, records whose customer id changed, customers rewritten."""

    rows: int = 0
    moved_refs: set[str] = field(default_factory=set)
    customers_touched: set[str] = field(default_factory=set)


def rows_by(conn: Connection, table, column: str, values: list[str]) -> list[dict]:
    """Rows of ``table`` whose ``column`` is one of ``values`` (500 at a time)."""
    col, out = table.c[column], []
    for i in range(0, len(values), 500):
        result = conn.execute(select(table).where(among(col, values[i:i + 500])))
        keys = list(result.keys())
        out += [dict(zip(keys, r)) for r in result.all()]
    return out


class Stored:
    """The stored crosswalk, customer and golden-field rows of a chunk, looked up by ref or id;
    ``known``: the crosswalk rows already read (an incremental resolution), else they are read.
    A table found empty at the start (a first build) is not read at all."""

    def __init__(self, conn: Connection, known: dict[str, dict] | None) -> None:
        self.conn, self.known = conn, known
        self.empty = {t.name for t in (customer_xref, customer, customer_golden_field) if not count_rows(conn, t)}

    def xref(self, refs: list[str]) -> dict[str, dict]:
        if self.known is not None:
            return {r: self.known[r] for r in refs if r in self.known}
        if customer_xref.name in self.empty:
            return {}
        return {r["ref"]: r for r in rows_by(self.conn, customer_xref, "ref", refs)}

    def customers(self, ids: list[str]) -> dict[str, dict]:
        if customer.name in self.empty:
            return {}
        return {r["customer_id"]: r for r in rows_by(self.conn, customer, "customer_id", ids)}

    def golden(self, ids: list[str]) -> dict[str, dict]:
        if customer_golden_field.name in self.empty:
            return {}
        return {f"{r['customer_id']}|{r['field']}": r for r in rows_by(self.conn, customer_golden_field, "customer_id", ids)}


def write_review(conn: Connection, result, clusters: list[list[str]], ids: list[str], scope: set[str]) -> tuple[dict, int]:
    """The review queue of this resolution's ``scope``: (rows by ref, rows written). A candidate
    is the engine's cluster number: its id is that of the cluster now holding its first record."""
    need = set(result.review) | {result.clusters[c][0] for _, cands in result.review.values() for c, _, _ in cands}
    cluster_no = {ref: n for n, refs in enumerate(clusters) for ref in refs if ref in need}
    review_rows = {}
    for ref, (reason, cands) in result.review.items():
        own = ids[cluster_no[ref]]
        listed = [{"customer_id": cid, "score": s, "signals": list(sig)} for cid, s, sig in
                  ((ids[cluster_no[result.clusters[c][0]]], s, sig) for c, s, sig in cands) if cid != own]
        if listed:
            review_rows[ref] = {"ref": ref, "reason": reason, "candidates": json.dumps(listed, ensure_ascii=False),
                                "customer_id": own}
    return review_rows, sync_rows(conn, customer_review, "ref", scope, review_rows, table_rows(conn, customer_review, "ref"))


def write_clusters(conn: Connection, clusters: list[list[str]], ids: list[str], result, overrides: dict,
                   review_rows: dict, rows_of: Callable[[list[str]], dict[str, dict]], stored: Stored,
                   scope: set[str], prev: dict[str, str], survivorship) -> Written:
    """Crosswalk, customers and golden fields of ``clusters`` (their ids ``ids``), a chunk at a
    time; then the stored rows of ``scope`` no cluster holds any more (records gone, ids merged
    away) are deleted. ``rows_of``: the staged rows of some refs; ``prev``: the customer id each
    ref of the scope carried."""
    out = Written()
    stamp = datetime.now(UTC)  # wall-clock time, as golden.stamp_changes says
    in_review = {review_rows[ref]["customer_id"] for ref in review_rows}
    held: set[str] = set()
    for start in range(0, len(clusters), CHUNK):
        numbers = range(start, min(start + CHUNK, len(clusters)))
        refs = [r for n in numbers for r in clusters[n]]
        held.update(refs)
        rows = rows_of(refs)
        existing_x = stored.xref(refs)
        desired_x = {}
        for n in numbers:
            for ref in clusters[n]:
                desired_x[ref] = _xref_row(ref, ids[n], rows[ref]["system"], result.joins.get(ref), overrides,
                                           ref in review_rows)
        out.moved_refs |= {ref for ref in refs if ids_of(desired_x, ref) != ids_of(existing_x, ref)}
        out.rows += sync_rows(conn, customer_xref, "ref", set(refs), desired_x, existing_x)
        desired_c, desired_g = {}, {}
        for n in numbers:
            cid, members = ids[n], [rows[r] for r in clusters[n]]
            fields = golden_fields(members, survivorship)
            desired_c[cid] = customer_row(cid, members, fields, cid in in_review)
            for f, (value, ref, rule) in fields.items():
                desired_g[f"{cid}|{f}"] = {"customer_id": cid, "field": f, "value": value, "ref": ref, "rule": rule}
        # (an id a record carried before is written with the cluster that carries it now, or
        # deleted at the end when none does: each id is compared once, in one chunk)
        out.rows += _customers(conn, sorted(desired_c), desired_c, desired_g, stored, stamp, out)
    live = set(ids)
    gone_refs = sorted(scope - held)
    if gone_refs:
        existing_x = stored.xref(gone_refs)
        out.moved_refs |= {ref for ref in gone_refs if ref in existing_x}
        out.rows += sync_rows(conn, customer_xref, "ref", set(gone_refs), {}, existing_x)
    gone_ids = sorted({cid for ref, cid in prev.items() if ref in scope} - live)
    if gone_ids:
        out.rows += _customers(conn, gone_ids, {}, {}, stored, stamp, out)
    return out


def ids_of(rows: dict[str, dict], ref: str) -> str | None:
    return rows.get(ref, {}).get("customer_id")


def _xref_row(ref: str, cid: str, system: str, join, overrides: dict, reviewed: bool) -> dict:
    if ref in overrides:
        rule, score, decided, evidence = "override", 1.0, "override", None
    else:
        rule, score = join.rule, float(join.score)
        decided = "review" if reviewed else "rule"  # provisional until IT decides
        evidence = json.dumps(list(join.signals)) if join.signals else None
    return {"ref": ref, "customer_id": cid, "system": system, "match_method": rule,
            "score": score, "decided_by": decided, "evidence": evidence}


def _customers(conn: Connection, chunk_ids: list[str], desired_c: dict, desired_g: dict, stored: Stored,
               stamp: datetime, out: Written) -> int:
    """Customer and golden-field rows of the ids ``chunk_ids``, written by difference."""
    scope = set(chunk_ids)
    existing_c = stored.customers(chunk_ids)
    stamp_changes(desired_c, existing_c, stamp)
    written = sync_rows(conn, customer, "customer_id", scope, desired_c, existing_c)
    out.customers_touched |= {cid for cid in scope if desired_c.get(cid) != existing_c.get(cid)}
    existing_g = stored.golden(chunk_ids)
    g_scope = {k for k in existing_g if k.split("|")[0] in scope} | set(desired_g)
    return written + sync_golden(conn, g_scope, desired_g, existing_g)
