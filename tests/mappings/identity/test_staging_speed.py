"""The faster staging and writing paths give exactly what the plain ones gave: compiled field
getters, cached clean-ups, tuple inserts and batched registry status changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from hub_core.schema import customer
from hub_core.schema_identity import identity_registry
from mappings.identity.contact_reads import get_path
from mappings.identity.extract import getter, phones, text
from mappings.identity.phones import extract_phones
from mappings.identity.registry import Assignment, Registry, persist
from mappings.identity.store import insert_many

RECORD = {"a": {"b": {"c": "deep"}}, "l": [{"x": 1}, {"x": 2}, "odd"], "s": "flat", "n": None}


def test_getter_walks_paths_like_get_path():
    for path in ("s", "a.b.c", "a.b", "l.x", "a.missing.c", "s.deeper", "n.x", "missing"):
        assert getter(path)(RECORD) == get_path(RECORD, path)
    assert getter("l.x")(RECORD) == [1, 2, None]
    assert getter("x")([{"x": 1}, 3]) == [1, None]  # a record that is a list: lists along the way
    assert getter("x")("not an object") is None


def test_text_cleans_like_the_staged_form():
    assert text("  ACME\x00 Ltd \x07 ") == "ACME Ltd"
    assert text(["first", "second"]) == "first"
    assert text([]) is None and text(True) is None and text({"a": 1}) is None and text("   ") is None
    assert text(12) == "12"


def test_cached_phones_equal_extract_phones():
    values = ["0755-8888 1234 转 8012 / 138 0013 8000", ["13800138000", None, True, "+86 139-0000-1111"],
              13900001111, None, "0755-88881234", ("010 6552 9999",)]
    assert phones(*values) == extract_phones(*values)
    assert phones(*values) == ["13800138000", "0755-88881234", "13900001111", "010-65529999"]
    assert phones(*values) == phones(*values)  # from the cache: the same again, a fresh list
    assert phones(*values) is not phones(*values)


def test_insert_many_stores_what_a_core_insert_stores(engine):
    at = datetime(2026, 11, 30, 8, 30, 15, 123456, tzinfo=UTC)
    rows = [{"customer_id": f"C{n}", "name": f"名{n}", "uscc": None, "owner_employee_id": None,
             "record_count": n, "needs_review": n % 2 == 0, "address": "地址", "phone": None,
             "industry": None, "updated_at": at} for n in range(5)]
    with engine.begin() as conn:
        insert_many(conn, customer, rows[:3])
        conn.execute(insert(customer), rows[3:])
        stored = {r.customer_id: r for r in conn.execute(select(customer))}
    assert len(stored) == 5
    fast, core = stored["C2"], stored["C4"]
    assert fast.needs_review is True and core.needs_review is True and stored["C1"].needs_review is False
    assert fast.updated_at == core.updated_at
    assert fast.updated_at.replace(tzinfo=None) == at.replace(tzinfo=None)
    assert (fast.name, fast.record_count, fast.address) == ("名2", 2, "地址")


def test_insert_many_with_a_defaulted_column_missing(engine):
    rows = [{"customer_id": "C1", "name": "x", "record_count": 1}]  # needs_review: its default
    with engine.begin() as conn:
        insert_many(conn, customer, rows)
        assert conn.execute(select(customer.c.needs_review)).scalar_one() is False


def test_persist_changes_statuses_in_batches(engine):
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as conn:
        reg = Registry(conn, "customer")
        persist(reg, Assignment(ids=[], issued=["C00000001", "C00000002", "C00000003", "C00000004"]), set(), now)
        reg = Registry(conn, "customer")
        persist(reg, Assignment(ids=[], merged={"C00000001": "C00000002", "C00000003": "C00000002"},
                                retired=["C00000004"]), set(), now)
        reg = Registry(conn, "customer")
        assert {i: (r.status, r.merged_into) for i, r in reg.rows.items()} == {
            "C00000001": ("merged", "C00000002"), "C00000002": ("active", None),
            "C00000003": ("merged", "C00000002"), "C00000004": ("retired", None)}
        persist(reg, Assignment(ids=[], revived=["C00000001", "C00000004"]), set(), now)
        t = identity_registry
        status = dict(conn.execute(select(t.c.entity_id, t.c.status).where(t.c.merged_into.is_(None))).all())
    assert status == {"C00000001": "active", "C00000002": "active", "C00000004": "active"}
