"""Set-based links after mapping: customers through the crosswalk, WeCom message parties,
contacts by company name, keyword signals, credit-rating notches.

Everything here is set-based SQL UPDATEs (no per-row round trips): over whole tables in a full
build, over the rows an incremental build changed (a :class:`Scope`) otherwise; driven by config:
ref templates and keywords come from ``customer360.yaml``, the rating ladder from the code tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)

from hub_core.schema import customer_xref, metadata
from hub_core.schema_identity import customer_record
from hub_core.schema_unified import (
    contact,
    credit_rating,
    employee_account,
    interaction,
)
from hub_core.sql import among, sorted_chunks
from mappings import contact_company
from mappings.c360_config import C360Config
from mappings.regions import places_compatible

CHUNK = 500  # refs per IN list
BATCH = 2000  # contacts read, staged and written at a time (contacts by company name)
SCOPED_MAX = 50_000  # more rows than this in scope: the whole-table statement is cheaper


@dataclass
class Scope:
    """What an incremental build changed, so the links below touch only rows that can differ from
    the last build's: rows mapped afresh and rows forgotten (per table, by ref), crosswalk refs
    whose customer moved, and contacts whose customer changed (filled in after linking)."""

    touched: dict[str, set[str]]
    forgotten: dict[str, set[str]]
    moved_refs: set[str]
    contacts_moved: set[str] = field(default_factory=set)
    # customer records whose staged or crosswalk row changed, and the normalised names and name
    # keys they carry or carried (ResolveStats): contacts linked by company name that can move
    records: set[str] = field(default_factory=set)
    name_norms: set[str] = field(default_factory=set)
    name_keys: set[str] = field(default_factory=set)

    def refs(self, conn: Connection, table) -> set[str]:
        """Refs of ``table`` whose derived columns may change: mapped or forgotten in this build,
        or carrying a customer_ref whose customer moved."""
        out = self.touched.get(table.name, set()) | self.forgotten.get(table.name, set())
        if self.moved_refs and "customer_ref" in table.c:
            out |= _refs_where(conn, table, table.c.customer_ref, self.moved_refs)
        return out

    def messages(self, conn: Connection) -> set[str]:
        """Interactions whose party columns, customer or flags may change: their own row, or their
        contact, is new, gone or moved."""
        contacts = self.touched.get("contact", set()) | self.forgotten.get("contact", set()) | self.contacts_moved
        return self.refs(conn, interaction) | _refs_where(conn, interaction, interaction.c.contact_ref, contacts)


def _refs_where(conn: Connection, table, column, values: set[str]) -> set[str]:
    out = set()
    for part in sorted_chunks(values, CHUNK):
        out.update(conn.execute(select(table.c.ref).where(among(column, part))).scalars())
    return out


def link_customers(conn: Connection, scope: Scope | None = None) -> None:
    """``customer_id`` of every unified row whose ``customer_ref`` is in the crosswalk (with a
    scope: of the rows that can have changed); contacts apart (:func:`link_contacts`)."""
    x = customer_xref.c
    for table in metadata.tables.values():
        if "customer_ref" in table.c and "customer_id" in table.c and table is not contact:
            linked = select(x.customer_id).where(x.ref == table.c.customer_ref).scalar_subquery()
            _update_changed(conn, table, table.c.customer_ref.is_not(None), {"customer_id": linked},
                            None if scope is None else scope.refs(conn, table))


def link_contacts(conn: Connection, track: bool = True, scope: Scope | None = None
                  ) -> dict[str, tuple[str | None, str | None]]:
    """The customer of every contact: the crosswalk's for its ``customer_ref`` when it knows it,
    else by company name (:func:`_by_company`). Every contact is looked at (one linked by company
    name in an earlier build must be looked at again) - with a ``scope`` (an incremental build)
    every contact whose link can change: those re-mapped or forgotten, those of the customer
    records whose crosswalk row changed, and those naming a company a changed record names
    (mappings/contact_company.py) -; only those whose customer changes are written; returns
    them, ref -> (customer before, customer after): what an incremental build follows
    (:attr:`Scope.contacts_moved`) without reading every contact before and after.
    ``track=False`` (a full build, where every contact moves and nothing follows the moves):
    the same writes, nothing collected (returns {})."""
    x, c = customer_xref.c, contact.c
    # A join, not a correlated look-up per contact: on PostgreSQL the planner costed that at
    # ~0.5M (33k contacts x two index probes), past jit_above_cost, and JIT-compiled it on every
    # build: 0.2-0.5 s at 10k where the join takes 25-40 ms (EXPLAIN ANALYZE, bench/findings.md).
    # customer_xref.ref is its key: each contact joins at most one crosswalk row.
    differs = and_(x.ref == c.customer_ref, c.customer_id.is_distinct_from(x.customer_id))
    relinked = None if scope is None else contact_company.relinked(conn, scope, scope.records)
    moved = {}
    for part in [None] if relinked is None else contact_company.chunks(relinked):
        among_them = true() if part is None else among(c.ref, part)
        found = {}
        if track:
            found = {ref: (old, new) for ref, old, new in conn.execute(
                select(c.ref, c.customer_id, x.customer_id).select_from(contact.join(customer_xref, differs))
                .where(among_them))}
        if found or not track:  # UPDATE ... FROM
            conn.execute(update(contact).where(differs, among_them).values(customer_id=x.customer_id))
        moved |= found
    return moved | _by_company(conn, track, scope, relinked)


_company = Table("tmp_contact_company", MetaData(), Column("ref", Text, primary_key=True),
                 Column("current", Text), Column("name_norm", Text, index=True), Column("core", Text, index=True),
                 Column("place", Text), prefixes=["TEMPORARY"])


def _by_company(conn: Connection, track: bool = True, scope: Scope | None = None,
                relinked: set[str] | None = None) -> dict[str, tuple[str | None, str | None]]:
    """A contact the crosswalk does not know belongs to the customer whose record carries the same
    normalised legal name (WeCom ``corp_full_name``, else ``remark_corp_name``), when exactly one
    customer does; else the customer its name key fits as customers match (the same core, places
    compatible: ``绵阳诺泽机电集团有限公司`` fits ``诺泽机电集团有限公司``, an explicit other city
    does not), when exactly one does; else none. Writes the contacts whose customer changes and
    returns them (ref -> (before, after); nothing when not ``track``).

    Set-based, in bounded memory: each contact's company name is normalised (Python) into
    ``contact_company`` (an incremental build, ``scope``: only the contacts it re-mapped; and only
    those whose link can change are looked at, ``relinked`` and mappings/contact_company.py), the
    contacts looked at are copied into a temporary table, the customer records
    (``customer_record``, as identity resolution staged them) are joined to it in SQL, and the
    matches stream back per contact - neither every customer record nor every contact is held here."""
    x = customer_xref.c
    _company.drop(conn, checkfirst=True)  # left by a rolled-back build on this connection (SQLite keeps it)
    _company.create(conn)
    refs = contact_company.refresh(conn, relinked, *((scope.name_norms, scope.name_keys) if scope is not None else ()))
    for query in contact_company.linked_anew(conn, refs):
        conn.execute(insert(_company).from_select(["ref", "current", "name_norm", "core", "place"], query))
    t, sc = _company.c, customer_record.c
    record = customer_record.join(customer_xref, x.ref == sc.ref)
    alive = and_(sc.name_norm.is_not(None), ~sc.is_deleted)
    # a contact whose name a customer carries never falls back to the name key: its core is dropped
    # (else every such contact's name-key matches would be read back too)
    conn.execute(update(_company).where(t.name_norm.in_(select(sc.name_norm).select_from(record).where(alive)))
                 .values(core=None))
    if conn.dialect.name == "postgresql":  # autovacuum never analyses a temporary table: without
        conn.execute(text(f"ANALYZE {_company.name}"))  # statistics the joins below took seconds
    by_name = (select(t.ref, func.count(x.customer_id.distinct()).label("n"), func.min(x.customer_id).label("cid"))
               .select_from(_company.join(record, sc.name_norm == t.name_norm)).where(alive).group_by(t.ref)
               .subquery())
    named = conn.execute(select(t.ref, t.current, by_name.c.n, by_name.c.cid)
                         .select_from(_company.outerjoin(by_name, by_name.c.ref == t.ref))
                         .order_by(t.ref).execution_options(yield_per=BATCH))
    fits = conn.execute(select(t.ref, t.place, sc.name_place, x.customer_id)
                        .select_from(_company.join(record, sc.name_key == t.core)).where(alive)
                        .order_by(t.ref).execution_options(yield_per=BATCH))
    moved = _write_found(conn, _found(named, fits), track)
    named.close()
    fits.close()
    _company.drop(conn)
    return moved


def _found(named, fits):
    """(ref, customer before, customer found) per contact, from ``named`` (per contact: how many
    customers carry its normalised name, and one of them) and ``fits`` (the records whose name key
    has its core), both ordered by ref alike: the fits of a contact come while it is read."""
    fits = iter(fits)
    fit = next(fits, None)
    for ref, current, n, cid in named:
        cids = set()
        while fit is not None and fit[0] == ref:
            if not n and places_compatible(fit[2], fit[1]):  # no customer carries the name itself
                cids.add(fit[3])
            fit = next(fits, None)
        if n:
            yield ref, current, cid if n == 1 else None
        else:
            yield ref, current, next(iter(cids)) if len(cids) == 1 else None
    if fit is not None:
        raise RuntimeError(f"contacts by company name: a name-key match for {fit[0]!r} came out of order")


def _write_found(conn: Connection, found, track: bool) -> dict[str, tuple[str | None, str | None]]:
    """Write the contacts whose customer changes, a batch at a time as they come (the rows read
    are the temporary table's, not ``contact``'s); the moves when ``track``."""
    moved: dict[str, tuple[str | None, str | None]] = {}
    write = update(contact).where(contact.c.ref == bindparam("b_ref")).values(customer_id=bindparam("b_cid"))
    batch: list[dict] = []
    for ref, current, new in found:
        if new != current:
            batch.append({"b_ref": ref, "b_cid": new})
            if track:
                moved[ref] = (current, new)
            if len(batch) >= BATCH:
                conn.execute(write, batch)
                batch = []
    if batch:
        conn.execute(write, batch)
    return moved


def _prefix(template: str) -> str:
    if not template.endswith("{}") or template.count("{}") != 1:
        raise ValueError(f"party ref template {template!r} must end with a single '{{}}'")
    return template[:-2]


def resolve_parties(conn: Connection, cfg: C360Config, scope: Scope | None = None) -> None:
    """Messages: sent by a known employee account -> outbound (rep = sender, contact = receiver);
    otherwise inbound (contact = sender, rep = the receiving employee)."""
    i, a = interaction.c, employee_account.c
    refs = None if scope is None else scope.messages(conn)
    for channel, parties in cfg.interaction_parties.items():
        emp_prefix, contact_prefix = _prefix(parties.employee_ref), _prefix(parties.contact_ref)
        sender_emp = select(a.employee_id).where(a.ref == literal(emp_prefix) + i.sender_id).scalar_subquery()
        receiver_emp = select(a.employee_id).where(a.ref == literal(emp_prefix) + i.receiver_id).scalar_subquery()
        is_out = exists().where(a.ref == literal(emp_prefix) + i.sender_id)
        _update_changed(conn, interaction, i.channel == channel, {
            "direction": case((is_out, "out"), else_="in"),
            "rep_employee_id": case((is_out, sender_emp), else_=receiver_emp),
            "contact_ref": case((is_out, literal(contact_prefix) + i.receiver_id),
                                else_=literal(contact_prefix) + i.sender_id)}, refs)
    # The customer of a message is the customer of its contact.
    _update_changed(conn, interaction, i.contact_ref.is_not(None), {
        "customer_id": select(contact.c.customer_id).where(contact.c.ref == i.contact_ref).scalar_subquery()}, refs)


def _update_changed(conn: Connection, table, where, values: dict, refs: set[str] | None = None) -> None:
    """``UPDATE table SET values WHERE where``, writing only rows where a value differs: a row
    rewritten with the same values still costs a write (in PostgreSQL, a dead tuple). ``refs``:
    only these rows (an incremental build), unless so many that the whole table is cheaper."""
    differs = or_(*[table.c[name].is_distinct_from(expr) for name, expr in values.items()])
    if refs is None or len(refs) > SCOPED_MAX:
        conn.execute(update(table).where(where, differs).values(**values))
        return
    for part in sorted_chunks(refs, CHUNK):
        conn.execute(update(table).where(among(table.c.ref, part), where, differs).values(**values))


def _any_like(column, words: list[str]):
    return or_(*[column.like(f"%{w}%") for w in words]) if words else false()


def flag_signals(conn: Connection, cfg: C360Config, scope: Scope | None = None) -> None:
    """Keyword signals (docs/data-model.md, "Derived signals")."""
    s, i, c = cfg.signals, interaction.c, contact.c
    _update_changed(conn, contact, true(), {"is_decision_maker": case(
        (_any_like(c.job_title, s.decision_maker_titles), true()), else_=false())},
        None if scope is None else scope.touched.get("contact", set()))
    dm_contact = exists().where(c.ref == i.contact_ref, c.is_decision_maker)
    _update_changed(conn, interaction, true(), {
        "is_tech_inquiry": case((and_(i.direction.in_(["in", "note"]), _any_like(i.content, s.tech_keywords)),
                                 true()), else_=false()),
        "mentions_competitor": case((_any_like(i.content, s.competitor_keywords), true()), else_=false()),
        "is_document": case((or_(_any_like(i.content, s.document_keywords),
                                 i.msg_type.in_(s.document_msg_types or ["-"])), true()), else_=false()),
        "with_decision_maker": case((or_(dm_contact, _any_like(i.content, s.decision_maker_text)), true()),
                                    else_=false())}, None if scope is None else scope.messages(conn))


def rate_notches(conn: Connection, ranks: dict[str, int]) -> None:
    """``notch_change`` = rank(rating) - rank(previous); without a previous rating on the record,
    the previous row of the same ref's history stands in. Negative means downgraded."""
    r = credit_rating.c

    def rank(col):
        return case(*[(col == k, int(v)) for k, v in ranks.items()], else_=None)

    prior = credit_rating.alias("prior")
    prior_rating = (select(prior.c.rating).where(prior.c.ref == r.ref, prior.c.rated_day < r.rated_day)
                    .order_by(prior.c.rated_day.desc()).limit(1).scalar_subquery())
    _update_changed(conn, credit_rating, r.previous_rating.is_(None), {"previous_rating": prior_rating})
    _update_changed(conn, credit_rating, true(), {"notch_change": rank(r.rating) - rank(r.previous_rating)})
