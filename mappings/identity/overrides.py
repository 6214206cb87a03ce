"""IT decisions on customer identity (force link, force split) and the read side for them:
the review queue and one customer's records, golden fields and trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, or_, select, update

from hub_core.schema import customer, customer_review, customer_xref
from hub_core.schema_identity import (
    customer_golden_field,
    identity_override,
    identity_registry,
    identity_trail,
)
from mappings.identity.registry import Registry

ENTITY = "customer"


class OverrideError(ValueError):
    """A decision that cannot be recorded (unknown record or customer)."""


def record_override(conn: Connection, ref: str, action: str, target: str | None, decided_by: str,
                    reason: str) -> dict:
    """Store an override (the newest per record wins; earlier ones are deactivated).

    ``link``: the record belongs to customer ``target`` (an id, or another record's ref, whose
    customer is meant); ``split``: the record is a customer of its own. ``release`` drops the
    record's override so the rules decide again."""
    if action not in ("link", "split", "release"):
        raise OverrideError(f"unknown action {action!r}: use link, split or release")
    known = conn.execute(select(customer_xref.c.customer_id).where(customer_xref.c.ref == ref)).scalar()
    if known is None:
        raise OverrideError(f"no customer record {ref!r} in the crosswalk (run a build first)")
    if action == "link":
        if not target:
            raise OverrideError("link needs a customer id or a record ref to link to")
        via_ref = conn.execute(select(customer_xref.c.customer_id).where(customer_xref.c.ref == target)).scalar()
        target = via_ref or target
        reg = Registry(conn, ENTITY)
        if target not in reg.rows and conn.execute(
                select(customer.c.customer_id).where(customer.c.customer_id == target)).scalar() is None:
            raise OverrideError(f"no customer {target!r}")
        target = reg.current(target)
    t = identity_override
    conn.execute(update(t).where(t.c.entity == ENTITY, t.c.ref == ref, t.c.active).values(active=False))
    row = {"entity": ENTITY, "ref": ref, "action": action, "target_id": target if action == "link" else None,
           "decided_by": decided_by, "reason": reason, "created_at": datetime.now(UTC),
           "active": action != "release"}
    conn.execute(insert(t), [row])
    return row


def review_queue(conn: Connection, limit: int = 50) -> list[dict]:
    """Open review items: the record, where it sits, why, and the candidates with their evidence."""
    q = select(customer_review).order_by(customer_review.c.ref).limit(limit)
    return [{**dict(r._mapping), "candidates": json.loads(r.candidates)} for r in conn.execute(q)]


def current_id(conn: Connection, customer_id: str) -> str:
    """The id a customer id stands for now: a merged id is followed to the one it merged into
    (for readers that stored an id before a merge)."""
    return Registry(conn, ENTITY).current(customer_id)


def show_customer(conn: Connection, customer_id: str) -> dict | None:
    """A customer by id (old ids are followed through the trail) or by one of its records' refs:
    golden record, provenance, source records with how each joined, and the id's history."""
    if ":" in customer_id:  # a record ref
        customer_id = conn.execute(select(customer_xref.c.customer_id)
                                   .where(customer_xref.c.ref == customer_id)).scalar() or customer_id
    current = current_id(conn, customer_id)
    row = conn.execute(select(customer).where(customer.c.customer_id == current)).first()
    if row is None:
        return None
    refs = conn.execute(select(customer_xref).where(customer_xref.c.customer_id == current)
                        .order_by(customer_xref.c.ref)).all()
    golden = conn.execute(select(customer_golden_field).where(customer_golden_field.c.customer_id == current)
                          .order_by(customer_golden_field.c.field)).all()
    trail = conn.execute(select(identity_trail).where(
        identity_trail.c.entity == ENTITY,
        or_(identity_trail.c.old_id.in_([customer_id, current]), identity_trail.c.new_id == current))
        .order_by(identity_trail.c.id)).all()
    status = conn.execute(select(identity_registry.c.status).where(
        identity_registry.c.entity == ENTITY, identity_registry.c.entity_id == current)).scalar()
    return {
        "asked": customer_id, "customer_id": current, "status": status, **{
            k: v for k, v in row._mapping.items() if k != "customer_id"},
        "golden": [dict(g._mapping) for g in golden],
        "records": [dict(r._mapping) for r in refs],
        "trail": [dict(t._mapping) for t in trail],
    }
