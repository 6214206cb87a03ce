"""R6: the same real customer disagrees across systems on its legal name or owner, or is missing in CRM."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import Connection, and_, case, func, literal, or_, select, union

from hub_core.schema import customer_xref
from hub_core.schema_identity import customer_record
from quality.rules.base import Candidate, RuleConfig, RuleContext
from quality.rules.common import in_scope


class Config(RuleConfig):
    check_names: bool = True
    check_owners: bool = True
    check_missing_in_crm: bool = True
    anchor_order: list[str] = ["crm", "u8", "finance"]  # anchor: the lowest ref of the first system present
    # The systems whose records the rule compares (the spec's CRM, U8 and finance); other staged
    # customer records (a spreadsheet customer list) help matching but are no master data here.
    systems: list[str] = ["crm", "u8", "finance"]


def _records(ctx: RuleContext, systems: list[str]):
    """Customer records that count (deleted CRM accounts do not), with their unified customer (in a
    scoped run only the scope's customers: the rule compares the records of one customer)."""
    r, x = customer_record.c, customer_xref.c
    return (select(x.customer_id, r.ref, r.system, r.name_norm, r.owner_employee_id)
            .join_from(customer_record, customer_xref, x.ref == r.ref)
            .where(r.is_deleted.is_(False), r.system.in_(systems), in_scope(ctx, x.customer_id)).subquery())


def find(conn: Connection, ctx: RuleContext, cfg: Config) -> list[Candidate]:
    """One per customer with conflicting names (NFKC, trimmed), conflicting CRM/U8 owners (both known
    employees), or U8/finance records but no CRM account. Refs: every record, anchor first."""
    rec = _records(ctx, cfg.systems)
    flagged = []
    if cfg.check_names or cfg.check_missing_in_crm:
        conds = []
        if cfg.check_names:
            conds.append(func.count(rec.c.name_norm.distinct()) > 1)
        if cfg.check_missing_in_crm:
            crm = func.sum(case((rec.c.system == "crm", 1), else_=0))
            conds.append(and_(crm == 0, func.count() > 0))
        flagged.append(select(rec.c.customer_id).group_by(rec.c.customer_id).having(or_(*conds)))
    if cfg.check_owners:
        a, b = rec.alias("a"), rec.alias("b")
        flagged.append(select(a.c.customer_id).join_from(a, b, and_(
            a.c.customer_id == b.c.customer_id, a.c.system == "crm", b.c.system == "u8",
            a.c.owner_employee_id.is_not(None), b.c.owner_employee_id.is_not(None),
            a.c.owner_employee_id != b.c.owner_employee_id)))
    if not flagged:
        return []
    ids = union(*flagged).subquery() if len(flagged) > 1 else flagged[0].subquery()
    order = case({s: i for i, s in enumerate(cfg.anchor_order)}, value=rec.c.system, else_=len(cfg.anchor_order))
    rows = conn.execute(
        select(rec.c.customer_id, rec.c.ref, rec.c.system, literal(0).label("n"))
        .where(rec.c.customer_id.in_(select(ids.c[0])))
        .order_by(rec.c.customer_id, order, rec.c.ref)
    )
    out = []
    for cid, group in groupby(rows, key=lambda r: r.customer_id):
        refs = [r.ref for r in group]
        out.append(Candidate("R6", "yellow", refs, cid, 0, None))
    return out
