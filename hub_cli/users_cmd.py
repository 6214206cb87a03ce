"""``hub users``: issue, list and revoke the API keys of the HTTP service (``hub serve``).

The key is printed once, when issued; only its hash is stored. Every grant and revocation is
written to the audit trail, attributed to the operating-system user who ran the command.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from hub_cli.common import cli_console

users_app = typer.Typer(help="API keys of the HTTP service: add, list, revoke.", no_args_is_help=True)
console = cli_console()

WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="SQLAlchemy URL (default: HUB_WAREHOUSE_URL).")]


def _engine(warehouse: str | None):
    from hub_api.readiness import WarehouseNotReady, open_existing_warehouse
    from hub_core.settings import get_settings

    try:
        return open_existing_warehouse(get_settings(warehouse_url=warehouse).warehouse_url)
    except WarehouseNotReady as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None


def actor() -> str:
    """How the audit trail names a command-line operator: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return "cli"


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Who or what holds the key, e.g. li.wei or grafana.")],
    role: Annotated[str, typer.Option(help="admin, hq, region_manager, rep, finance or dashboard.")],
    employee: Annotated[str | None, typer.Option(help="Role rep: the employee id whose customers the key sees.")] = None,
    region: Annotated[list[str] | None, typer.Option(help="Role region_manager: a region (repeatable).")] = None,
    expires_days: Annotated[int, typer.Option(min=0, max=3650, help="Days until it expires; 0 never.")] = 90,
    warehouse: WarehouseOpt = None,
) -> None:
    """Issue a key and print it once."""
    from hub_api import audit
    from hub_api.keys import GrantError, issue_key

    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    engine = _engine(warehouse)
    try:
        with engine.begin() as conn:
            key_id, token = issue_key(conn, name=name, role=role, employee_id=employee, regions=region,
                                      expires_at=expires, created_by=actor())
            audit.record(conn, actor=actor(), action="key.issue", target=f"key:{key_id}",
                         detail={"name": name, "role": role, "employee_id": employee, "regions": region,
                                 "expires_at": expires})
    except GrantError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"key {key_id} for {name} ({role}), "
                  f"{'expires ' + expires.date().isoformat() if expires else 'never expires'}; shown once:")
    typer.echo(token)


@users_app.command("list")
def list_(warehouse: WarehouseOpt = None) -> None:
    """List the keys (never the keys themselves)."""
    from hub_api.keys import list_keys

    with _engine(warehouse).connect() as conn:
        keys = list_keys(conn)
    for k in keys:
        scope = k["employee_id"] or ", ".join(k["regions"]) or "-"
        state = "active" if k["active"] else ("revoked" if k["revoked_at"] else "expired")
        expires = k["expires_at"].date().isoformat() if k["expires_at"] else "never"
        typer.echo(f"{k['key_id']}  {k['name']}  {k['role']}  {scope}  expires {expires}  {state}")
    if not keys:
        typer.echo("no keys; issue one with `hub users add NAME --role ROLE`")


@users_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id `hub users list` shows.")],
           warehouse: WarehouseOpt = None) -> None:
    """Revoke a key at once."""
    from hub_api import audit
    from hub_api.keys import revoke_key

    with _engine(warehouse).begin() as conn:
        described = revoke_key(conn, key_id)
        if described is not None:
            audit.record(conn, actor=actor(), action="key.revoke", target=f"key:{key_id}",
                         detail={"name": described["name"]})
    if described is None:
        console.print(f"[red]error:[/red] no key {key_id}")
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id} ({described['name']})")
