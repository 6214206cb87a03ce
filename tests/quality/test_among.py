"""``among``: the key lookups of reconcile and report, one bound array on PostgreSQL."""

from sqlalchemy import insert, select

from hub_core.schema import stg_sales_order
from hub_core.sql import among
from quality.report.lookup import business_context


def test_same_rows_as_an_in_list_and_one_parameter_on_postgresql(engine):
    s = stg_sales_order.c
    refs = [f"u8:saleorderlist:SO{n:05d}" for n in range(3000)]
    with engine.begin() as conn:
        conn.execute(insert(stg_sales_order), [{"ref": r, "code": r[-7:], "customer_id": "C1"}
                                               for r in refs[::3]])
    wanted = refs[:1500] + ["u8:saleorderlist:missing"]
    statements = []
    with engine.connect() as conn:
        from sqlalchemy import event

        event.listen(conn, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
        got = set(conn.execute(select(s.ref).where(among(s.ref, wanted))).scalars())
        context = business_context(conn, wanted)
    assert got == set(refs[:1500:3]) == set(context)
    assert all(context[r]["code"] == r[-7:] for r in got)
    if engine.dialect.name == "postgresql":  # not one placeholder per ref
        # among: the refs as one text, split by the server (business_context uses it too)
        assert all("ANY" in sql and "string_to_array" in sql and len(params) == 1 for sql, params in statements)
    else:
        assert "IN" in statements[0][0]
