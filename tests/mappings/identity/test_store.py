"""Look-ups by a list of texts (``store.one_of``) and golden fields written by difference
(``store.sync_golden``): the same rows as the plain forms on both warehouses."""

from sqlalchemy import insert, select

from hub_core.schema_identity import customer_golden_field
from hub_core.sql import among
from mappings.identity.store import one_of, sync_golden

ROWS = [{"customer_id": f"C{n:03d}", "field": f, "value": f"{f} {n}", "ref": f"crm:AccountObj:{n}", "rule": "priority"}
        for n in range(40) for f in ("name", "address", "phone")]


def _ids(conn, where) -> list[tuple]:
    t = customer_golden_field.c
    return sorted(conn.execute(select(t.customer_id, t.field).where(where)).all())


def test_one_of_selects_what_in_selects(engine):
    t = customer_golden_field.c
    with engine.begin() as conn:
        conn.execute(insert(customer_golden_field), ROWS)
        for values in (["C001"], ["C001", "C039", "nobody"], [f"C{n:03d}" for n in range(0, 40, 3)],
                       ["", "C002"], [""], ["C00\x1f3", "C004"]):  # an empty text; a value holding the separator
            assert _ids(conn, one_of(conn, t.customer_id, values)) == _ids(conn, among(t.customer_id, values))
        assert _ids(conn, one_of(conn, t.customer_id, ["C005", "C006"])) == [
            (f"C00{n}", f) for n in (5, 6) for f in ("address", "name", "phone")]


def test_sync_golden_deletes_only_stale_rows(engine):
    existing = {f"{r['customer_id']}|{r['field']}": dict(r) for r in ROWS}
    desired = dict(existing)
    for key in ("C001|name", "C002|name", "C007|address"):
        desired[key] = existing[key] | {"value": "changed"}
    del desired["C010|phone"]
    desired["C041|name"] = {"customer_id": "C041", "field": "name", "value": "new", "ref": "u8:customer:41",
                            "rule": "priority"}
    with engine.begin() as conn:
        conn.execute(insert(customer_golden_field), ROWS)
        written = sync_golden(conn, set(existing) | set(desired), desired, existing)
        stored = {f"{r.customer_id}|{r.field}": dict(r._mapping) for r in conn.execute(select(customer_golden_field))}
    assert written == 4 + 4  # 3 changed (deleted, inserted), 1 gone, 1 new
    assert {k: {c: v[c] for c in ("customer_id", "field", "value", "ref", "rule")} for k, v in stored.items()} == desired
