"""Golden fields written by difference (``store.sync_golden``): the same rows as a rewrite, on both
warehouses (look-ups by a list of texts: ``tests/hub_core/test_among.py``)."""

from sqlalchemy import insert, select

from hub_core.schema_identity import customer_golden_field
from mappings.identity.store import sync_golden

ROWS = [{"customer_id": f"C{n:03d}", "field": f, "value": f"{f} {n}", "ref": f"crm:AccountObj:{n}", "rule": "priority"}
        for n in range(40) for f in ("name", "address", "phone")]


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
