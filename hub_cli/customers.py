"""``hub customers``: IT's hand on customer identity — the review queue, force link/split, show.

An override is stored in the warehouse and always wins over the matching rules, on every later
build; ``link``/``split``/``release`` rebuild at once unless ``--no-build`` is given.
SQLAlchemy and the mappings load inside the commands (``hub --help`` stays fast).
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer
from rich.table import Table

from hub_cli.common import cli_console

app = typer.Typer(help="Customer identity: review queue, force link/split, show a customer.", no_args_is_help=True)
console = cli_console()

WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="SQLAlchemy URL (default: HUB_WAREHOUSE_URL or a local SQLite file).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why; kept with the decision.")]
NoBuildOpt = Annotated[bool, typer.Option("--no-build", help="Only record the decision; the next build applies it.")]


def _engine(warehouse: str | None):
    from hub_core.settings import get_settings
    from hub_core.warehouse import open_warehouse

    return open_warehouse(get_settings(warehouse_url=warehouse).warehouse_url)


def _decide(ref: str, action: str, target: str | None, warehouse, by, reason, no_build) -> None:
    from mappings.identity.overrides import OverrideError, record_override

    engine = _engine(warehouse)
    try:
        with engine.begin() as conn:
            row = record_override(conn, ref, action, target, by or getpass.getuser(), reason)
    except OverrideError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    what = f"{ref} -> {row['target_id']}" if action == "link" else ref
    console.print(f"recorded {action}: {what}")
    if not no_build:
        from mappings.build import build_customer360

        stats = build_customer360(engine)
        console.print(f"rebuilt: {stats.customers} customers ({stats.review} to review)")


@app.command()
def review(limit: Annotated[int, typer.Option(min=1, help="At most this many items.")] = 50,
           warehouse: WarehouseOpt = None) -> None:
    """List records waiting for a decision, with each candidate's score and evidence."""
    from mappings.identity.overrides import review_queue

    with _engine(warehouse).connect() as conn:
        items = review_queue(conn, limit)
    if not items:
        console.print("review queue is empty")
        return
    table = Table("record", "sits in", "reason", "candidates (id score signals)")
    for item in items:
        cands = "\n".join(f"{c['customer_id']} {c['score']:.2f} {'+'.join(c['signals'])}" for c in item["candidates"])
        table.add_row(item["ref"], item["customer_id"] or "", item["reason"], cands)
    console.print(table)


@app.command()
def link(ref: Annotated[str, typer.Argument(help="The record, e.g. crm:AccountObj:6502f1c0a9.")],
         target: Annotated[str, typer.Argument(help="The customer id it belongs to, or another record's ref.")],
         by: ByOpt = None, reason: ReasonOpt = "linked by IT", no_build: NoBuildOpt = False,
         warehouse: WarehouseOpt = None) -> None:
    """Force a record into a customer (wins over every rule, on every later build)."""
    _decide(ref, "link", target, warehouse, by, reason, no_build)


@app.command()
def split(ref: Annotated[str, typer.Argument(help="The record to take out of its customer.")],
          by: ByOpt = None, reason: ReasonOpt = "split by IT", no_build: NoBuildOpt = False,
          warehouse: WarehouseOpt = None) -> None:
    """Force a record to be a customer of its own (wins over every rule, on every later build)."""
    _decide(ref, "split", None, warehouse, by, reason, no_build)


@app.command()
def release(ref: Annotated[str, typer.Argument(help="The record whose override is dropped.")],
            by: ByOpt = None, reason: ReasonOpt = "released by IT", no_build: NoBuildOpt = False,
            warehouse: WarehouseOpt = None) -> None:
    """Drop a record's override: the matching rules decide again."""
    _decide(ref, "release", None, warehouse, by, reason, no_build)


@app.command()
def show(customer_id: Annotated[str, typer.Argument(help="A customer id (an old, merged id is followed) or a record's ref.")],
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
         warehouse: WarehouseOpt = None) -> None:
    """A customer's golden record with provenance, its source records and its id history."""
    from mappings.identity.overrides import show_customer

    with _engine(warehouse).connect() as conn:
        found = show_customer(conn, customer_id)
    if found is None:
        console.print(f"[red]error:[/red] no customer {customer_id!r}")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, default=str, indent=1))
        return
    if found["asked"] != found["customer_id"]:
        console.print(f"{found['asked']} was merged into {found['customer_id']}")
    console.print(f"[bold]{found['customer_id']}[/bold] {found['name']} ({found['status']})")
    fields = Table("field", "value", "from", "rule")
    for g in found["golden"]:
        fields.add_row(g["field"], g["value"], g["ref"], g["rule"])
    console.print(fields)
    records = Table("record", "rule", "score", "by", "evidence")
    for r in found["records"]:
        records.add_row(r["ref"], r["match_method"], f"{r['score'] or 0:.2f}", r["decided_by"] or "", r["evidence"] or "")
    console.print(records)
    for t in found["trail"]:
        console.print(f"{t['at']:%Y-%m-%d %H:%M} {t['event']}: {t['old_id']} -> {t['new_id'] or '-'} ({t['reason']})")
