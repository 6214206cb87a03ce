"""A generated world, salted with NUL bytes, megabyte strings and garbage amounts/dates, builds on
SQLite and PostgreSQL: bad records are quarantined, the rest reaches customer_360."""

from datetime import datetime

from sqlalchemy import func, select

from hub_core.schema import customer

# a build writes the candidate; the publish gate copies it into customer_360 (mappings/publish.py)
from hub_core.schema_publish import customer_360_candidate as customer_360
from hub_core.schema_unified import data_quality_finding, mapping_quarantine, sales_order
from mappings.build import build_customer360
from simulators.generator import generate
from tests.mappings.landing import land

KEYS = {"PersonnelObj": ["_id"], "AccountObj": ["_id"], "ContactObj": ["_id"], "NewOpportunityObj": ["_id"],
        "SalesOrderObj": ["_id"], "ContractObj": ["_id"], "PaymentObj": ["_id"], "ActiveRecordObj": ["_id"],
        "person": ["code"], "customer": ["code"], "saleorderlist": ["code"], "consignmentlist": ["code"],
        "saleinvoicelist": ["invoiceno"], "oughtreceivelist": ["code"], "acceptlist": ["code"],
        "inventory": ["code"], "currentstock": ["whcode", "invcode"], "credit_rating": ["customer_code"],
        "follow_users": ["userid"], "external_contacts": ["external_userid", "userid"], "messages": ["msgid"]}


def land_world(engine, world):
    for system in ("crm", "u8", "finance", "wecom"):
        for stream, records in world[system].items():
            if stream == "external_contacts":  # the tap lifts the key fields to the top level
                records = [{"external_userid": r["external_contact"]["external_userid"],
                            "userid": r["follow_info"]["userid"], **r} for r in records]
            if records:
                land(engine, system, stream, KEYS[stream], records)


def test_hostile_generated_world_builds(engine):
    world, _ = generate(7, customers=12)
    world["crm"]["AccountObj"][0]["name"] += "\u0000\u0001"
    world["crm"]["ContactObj"][0]["job_title"] = "总经理\u0000"
    world["u8"]["customer"][0]["name"] = "\u0000" + world["u8"]["customer"][0]["name"]
    orders = world["u8"]["saleorderlist"]
    orders[0]["sum"] = "12,3O0.OO"
    orders[1]["date"] = "2026-13-45"
    orders[2]["money"] = "\u0000"
    world["wecom"]["messages"][0]["text"]["content"] = "\u0000" * 3 + "长" * 1_000_000
    land_world(engine, world)
    as_of = datetime.fromisoformat(world["meta"]["now"])
    stats = build_customer360(engine, as_of=as_of)
    with engine.connect() as conn:
        quarantined = set(conn.execute(select(mapping_quarantine.c.ref)).scalars())
        kinds = set(conn.execute(select(data_quality_finding.c.kind)).scalars())
        n_orders = conn.execute(select(func.count()).select_from(sales_order)).scalar_one()
        n_360 = conn.execute(select(func.count()).select_from(customer_360)).scalar_one()
        n_customers = conn.execute(select(func.count()).select_from(customer)).scalar_one()
    assert quarantined == {f"u8:saleorderlist:{orders[0]['code']}", f"u8:saleorderlist:{orders[1]['code']}"}
    assert n_orders == len(orders) - 2
    assert {"cast_failed", "truncated", "control_characters"} <= kinds
    assert n_360 == n_customers == stats.customers > 0
