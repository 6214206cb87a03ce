"""``hub customers``: the review queue, force link/split/release and show, through the real CLI."""

import json

from typer.testing import CliRunner

from hub_cli.main import app
from hub_core.warehouse import open_warehouse
from tests.mappings.identity.test_resolve import land

runner = CliRunner()
UA, UB = "91110108551385082Q", "91310000MA1FL4XK1Y"


def invoke(*args):
    result = runner.invoke(app, ["customers", *args])
    return result.exit_code, " ".join(result.output.split())


def test_review_link_split_release_show(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = open_warehouse(url)
    land(engine, "crm", "AccountObj", ["_id"], [
        {"_id": "A1", "name": "恒通建材有限公司", "uscc__c": UA},
        {"_id": "A2", "name": "恒通建材有限公司", "uscc__c": UB},
    ])
    land(engine, "u8", "customer", ["code"], [{"code": "U3", "name": "恒通建材"}])  # ambiguous
    assert runner.invoke(app, ["build", "--warehouse", url]).exit_code == 0

    code, out = invoke("review", "--warehouse", url)
    assert code == 0 and "u8:customer:U3" in out and "name_exact" in out

    code, out = invoke("link", "u8:customer:U3", "crm:AccountObj:A2", "--by", "it-li", "--warehouse", url)
    assert code == 0 and "recorded link" in out
    code, out = invoke("show", "crm:AccountObj:A2", "--warehouse", url)  # a record's ref works too
    assert code == 0 and "u8:customer:U3" in out and "override" in out
    code, out = invoke("show", "C99999999", "--warehouse", url)
    assert code == 1 and "no customer" in out
    _, raw = invoke("review", "--warehouse", url)
    assert "review queue is empty" in raw

    shown = json.loads(runner.invoke(app, ["customers", "show", _id_of(url, "crm:AccountObj:A2"), "--json",
                                           "--warehouse", url]).output)
    assert {r["ref"]: r["decided_by"] for r in shown["records"]} == {
        "crm:AccountObj:A2": "rule", "u8:customer:U3": "override"}
    assert {g["field"]: g["ref"] for g in shown["golden"]}["uscc"] == "crm:AccountObj:A2"

    code, out = invoke("split", "crm:AccountObj:A1", "--warehouse", url)
    assert code == 0
    code, out = invoke("release", "u8:customer:U3", "--warehouse", url)
    assert code == 0 and "rebuilt" in out
    _, raw = invoke("review", "--warehouse", url)
    assert "u8:customer:U3" in raw  # the rules decide again: ambiguous

    code, out = invoke("link", "crm:AccountObj:nope", "C1", "--warehouse", url)
    assert code == 1 and "no customer record" in out


def _id_of(url, ref):
    from sqlalchemy import select

    from hub_core.schema import customer_xref

    with open_warehouse(url).connect() as conn:
        return conn.execute(select(customer_xref.c.customer_id).where(customer_xref.c.ref == ref)).scalar_one()
