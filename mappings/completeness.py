"""The completeness index (business-rules.md, "Data quality"): the share of complete records
(a record is complete when >= ``completeness_threshold`` of its key fields are filled), per
entity, per source system and per owner (the owner of the record's customer)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)

from hub_core.schema import customer, metadata
from hub_core.schema_unified import customer_360, data_completeness
from hub_core.sql import among


def rebuild_completeness(conn: Connection, threshold: float, systems: list[str], build_id: int) -> int:
    """Replace ``data_completeness``. Set-based: one grouped query over every entity table per
    (entity, system, customer), joined with ``customer`` only then (a join per record cost several
    times the scan on SQLite) and grouped again per owner; what comes back is the index itself, a
    few rows per entity, system and owner - nothing per customer or per record is held here."""
    parts = []
    for table in metadata.tables.values():
        if "completeness" not in table.c or table is customer_360 or "ref" not in table.c:
            continue
        system = case(*[(table.c.ref.like(f"{s}:%"), s) for s in systems], else_="other")
        cid = table.c.customer_id if "customer_id" in table.c else literal(None)
        parts.append(select(literal(table.name).label("entity"), system.label("system"), cid.label("customer_id"),
                            table.c.completeness))
    rows = union_all(*parts).subquery()
    per_customer = select(rows.c.entity, rows.c.system, rows.c.customer_id, func.count().label("n"),
                          func.sum(case((rows.c.completeness >= threshold, 1), else_=0)).label("ok")
                          ).group_by(rows.c.entity, rows.c.system, rows.c.customer_id).subquery()
    g, c = per_customer.c, customer.c
    query = (select(g.entity, g.system, c.owner_employee_id, func.sum(g.n), func.coalesce(func.sum(g.ok), 0))
             .select_from(per_customer.outerjoin(customer, c.customer_id == g.customer_id))
             .group_by(g.entity, g.system, c.owner_employee_id))
    out = [{"entity": entity, "system": system, "owner_employee_id": owner, "records": int(n),
            "complete_records": int(ok), "completeness_index": round(int(ok) / int(n), 4), "build_id": build_id}
           for entity, system, owner, n, ok in conn.execute(query)]
    conn.execute(delete(data_completeness))
    if out:
        conn.execute(insert(data_completeness), out)
    return len(out)


_before = Table("tmp_owner_before", MetaData(), Column("customer_id", String(100), primary_key=True),
                Column("owner_employee_id", Text), prefixes=["TEMPORARY"])


def _owners_of(conn: Connection, table, cids: set[str]) -> dict[str, str | None]:
    """customer_id -> owner employee id of the customers ``cids`` in ``table`` (``customer``, or
    the owners as they were before the build)."""
    ordered, out = sorted(cids), {}
    for i in range(0, len(ordered), 500):
        out.update(conn.execute(select(table.c.customer_id, table.c.owner_employee_id)
                                .where(among(table.c.customer_id, ordered[i:i + 500]))).all())
    return out


def _scored(table) -> bool:
    return "completeness" in table.c and "ref" in table.c and table is not customer_360


class CompletenessLog:
    """The rows an incremental build changes, as the completeness index counts them: each
    (table, ref) the first time it is about to change (its rows then: customer, completeness), and
    at the end the same refs again. The index then moves by the difference instead of a scan of
    every entity table (:func:`update_completeness`). A row changed without being captured here
    would leave the index off: ``tests/mappings/test_incremental_c360.py`` compares with a full
    rebuild."""

    def __init__(self, conn: Connection):
        self.conn = conn
        # every customer's owner before this build (entity resolution may hand customers over),
        # copied in SQL into a temporary table: nothing per customer is held here
        _before.drop(conn, checkfirst=True)  # left by a rolled-back build on this connection (SQLite keeps it)
        _before.create(conn)
        conn.execute(insert(_before).from_select(["customer_id", "owner_employee_id"],
                                                 select(customer.c.customer_id, customer.c.owner_employee_id)))
        self.old: dict[tuple[str, str], list[tuple[str | None, float | None]]] = {}

    def _rows(self, table, column, values) -> dict[str, list[tuple]]:
        cid = table.c.customer_id if "customer_id" in table.c else literal(None)
        ordered, out = sorted(values), defaultdict(list)
        for i in range(0, len(ordered), 500):
            for ref, c, comp in self.conn.execute(select(table.c.ref, cid, table.c.completeness)
                                                  .where(among(column, ordered[i:i + 500]))):
                out[ref].append((c, comp))
        return out

    def capture(self, table, refs: set[str], column=None) -> None:
        """Rows of ``table`` whose ref (or ``column``: a parent's ref) is in ``refs``, before they
        change; a ref captured earlier keeps its first (the pre-build) rows."""
        if not refs or not _scored(table):
            return
        found = self._rows(table, table.c.ref if column is None else column, refs)
        keys = refs if column is None else found.keys()
        for ref in keys:
            self.old.setdefault((table.name, ref), found.get(ref, []))

    def relinked(self, table, refs: set[str], before: dict[str, str | None]) -> None:
        """Rows whose customer changed by linking alone (contacts): ``before`` holds their former
        customer; linking changes no completeness, so the current one stands for the old."""
        todo = {r for r in refs if (table.name, r) not in self.old}
        for ref, rows in self._rows(table, table.c.ref, todo).items():
            self.old[(table.name, ref)] = [(before.get(ref), comp) for _, comp in rows]

    def new(self, touched: dict[str, set[str]]) -> None:
        """Rows mapped afresh that did not exist before: nothing to take away for them."""
        for name, refs in touched.items():
            if _scored(metadata.tables[name]):
                for ref in refs:
                    self.old.setdefault((name, ref), [])


def update_completeness(conn: Connection, log: CompletenessLog, threshold: float, systems: list[str],
                        build_id: int) -> int:
    """``data_completeness`` moved by what ``log`` captured: each changed row's old contribution
    taken away, its new one added. When a customer kept across the build changed owner (all its
    rows move between owners, captured or not), the index is rebuilt instead."""
    b, c = _before.c, customer.c
    handed_over = conn.execute(select(b.customer_id).select_from(_before.join(customer, c.customer_id == b.customer_id))
                               .where(c.owner_employee_id.is_distinct_from(b.owner_employee_id)).limit(1)).first()
    if handed_over is not None:
        _before.drop(conn)
        return rebuild_completeness(conn, threshold, systems, build_id)
    d = data_completeness.c
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for entity, system, owner, n, ok in conn.execute(select(d.entity, d.system, d.owner_employee_id, d.records,
                                                            d.complete_records)):
        totals[(entity, system, owner)] = [n, ok]

    def system_of(ref: str) -> str:
        return next((s for s in systems if ref.startswith(f"{s}:")), "other")

    def add(name, ref, rows, who, sign):
        for cid, comp in rows:
            counts = totals[(name, system_of(ref), who.get(cid) if cid is not None else None)]
            counts[0] += sign
            counts[1] += sign * int(comp is not None and comp >= threshold)

    by_table: dict[str, set[str]] = defaultdict(set)
    before = _owners_of(conn, _before, {cid for rows in log.old.values() for cid, _ in rows if cid is not None})
    _before.drop(conn)
    for (name, ref), rows in log.old.items():
        add(name, ref, rows, before, -1)
        by_table[name].add(ref)
    now = {name: log._rows(metadata.tables[name], metadata.tables[name].c.ref, refs) for name, refs in by_table.items()}
    after = _owners_of(conn, customer, {cid for found in now.values() for rows in found.values()
                                        for cid, _ in rows if cid is not None})
    for name, found in now.items():
        for ref, rows in found.items():
            add(name, ref, rows, after, +1)
    out = [{"entity": entity, "system": system, "owner_employee_id": owner, "records": n,
            "complete_records": ok, "completeness_index": round(ok / n, 4), "build_id": build_id}
           for (entity, system, owner), (n, ok) in totals.items() if n]
    conn.execute(delete(data_completeness))  # a few rows per entity, system and owner: rewritten whole
    if out:
        conn.execute(insert(data_completeness), out)
    return len(out)
