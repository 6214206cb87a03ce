"""``hub_core.sql.among``: the same rows as ``IN`` on both warehouses, whatever form PostgreSQL gets
(texts joined into one parameter, other values as one array), and a cached compilation reused
with each statement's own values."""

from sqlalchemy import event, insert, select

from hub_core.schema import discrepancy
from hub_core.schema_identity import customer_golden_field
from hub_core.sql import UNIT, among, joined_texts

ROWS = [{"customer_id": f"C{n:03d}", "field": f, "value": f"{f} {n}", "ref": f"crm:AccountObj:{n}", "rule": "priority"}
        for n in range(40) for f in ("name", "address", "phone")]
ROWS += [{"customer_id": "", "field": "name", "value": "empty id", "ref": "r", "rule": "priority"}]

TEXTS = (["C001"], ["C001", "C039", "nobody"], [f"C{n:03d}" for n in range(0, 40, 3)], ["", "C002"], [""], [],
         [f"C00{UNIT}3", "C004"], ["C005", "C006"])  # an empty text, no value, a value holding the separator


def _ids(conn, where) -> list[tuple]:
    t = customer_golden_field.c
    return sorted(conn.execute(select(t.customer_id, t.field).where(where)).all())


def _watch(conn) -> list[tuple]:
    sent = []
    event.listen(conn, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    return sent


def test_texts_select_what_in_selects(engine):
    t = customer_golden_field.c
    with engine.begin() as conn:
        conn.execute(insert(customer_golden_field), ROWS)
        sent = _watch(conn)
        for values in TEXTS:  # one statement shape, run again with other values (and forms)
            assert _ids(conn, among(t.customer_id, values)) == _ids(conn, t.customer_id.in_(values)), values
        assert _ids(conn, among(t.customer_id, ["C005", "C006"])) == [
            (f"C00{n}", f) for n in (5, 6) for f in ("address", "name", "phone")]
        assert _ids(conn, among(t.customer_id, [""])) == [("", "name")]
    if engine.dialect.name == "postgresql":  # one parameter per look-up, joined text where it can be
        looked = [(sql, params) for sql, params in sent if "ANY" in sql]
        assert len(looked) == len(TEXTS) + 2 and all(len(params) == 1 for _, params in looked)
        joined = [p for sql, p in looked if "string_to_array" in sql]
        assert [next(iter(p.values())) for p in joined[:3]] == ["C001", f"C001{UNIT}C039{UNIT}nobody",
                                                                UNIT.join(f"C{n:03d}" for n in range(0, 40, 3))]
        assert len(joined) == len(TEXTS) + 2 - 4  # [""] twice, [] and the separator went as arrays
    else:
        assert all("ANY" not in sql for sql, _ in sent)


def test_other_values_go_as_an_array(engine):
    d = discrepancy.c
    with engine.begin() as conn:
        got = conn.execute(select(d.discrepancy_id).where(among(d.amount_cents, [1, 2, 3]))).all()
    assert got == []


def test_joined_only_when_the_server_splits_it_back():
    assert joined_texts(["a", "", "b"]) == f"a{UNIT}{UNIT}b"
    assert joined_texts(["", ""]) == UNIT
    for values in ([], [""], ["a", 1], [f"a{UNIT}b"], ["a", None]):
        assert joined_texts(values) is None, values


def test_one_cache_entry_per_shape_with_each_statements_values():
    t = customer_golden_field.c
    first, second = (select(t.field).where(among(t.customer_id, v)) for v in (["a", "b"], ["c", "d", "e"]))
    k1, k2 = first._generate_cache_key(), second._generate_cache_key()
    assert k1.key == k2.key  # compiled once
    assert f"c{UNIT}d{UNIT}e" in [b.value for b in k2.bindparams]  # and run with its own values
    apart = select(t.field).where(among(t.customer_id, [f"c{UNIT}", "d"]))._generate_cache_key()
    assert apart.key != k1.key  # the array form is another compilation
