"""``hub serve`` (the HTTP service), ``hub api`` (its OpenAPI document and secret keys) and
``hub users`` (its API keys). Registered on the main CLI by ``register_api_commands``; everything
heavy is imported inside the commands so ``hub --help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub_cli.common import cli_console
from hub_cli.users_cmd import users_app

api_app = typer.Typer(help="The HTTP service's OpenAPI document and connector secret keys.", no_args_is_help=True)
console = cli_console()

WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="SQLAlchemy URL (default: HUB_WAREHOUSE_URL).")]


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(1)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8800,
    warehouse: WarehouseOpt = None,
) -> None:
    """Serve the HTTP API over an existing warehouse (refuses a missing or unmigrated one)."""
    import uvicorn

    from hub_api.app import create_app
    from hub_api.readiness import WarehouseNotReady
    from hub_core.settings import get_settings

    try:
        app = create_app(get_settings(warehouse_url=warehouse).warehouse_url)
    except WarehouseNotReady as exc:
        _fail(str(exc))
    console.print(f"serving the hub API on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


@api_app.command("openapi")
def openapi(out: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None) -> None:
    """Print or write the OpenAPI document (the committed copy is docs/openapi.json)."""
    from hub_api.openapi import openapi_document, write

    if out is None:
        typer.echo(openapi_document(), nl=False)
    else:
        console.print(f"wrote {write(out)}")


@api_app.command("new-secret-key")
def new_secret_key() -> None:
    """Print a fresh key for HUB_SECRET_KEY (connector secrets at rest)."""
    from hub_api.secret_box import new_key

    typer.echo(new_key())


@api_app.command("rotate-secrets")
def rotate_secrets(warehouse: WarehouseOpt = None) -> None:
    """Re-encrypt every stored connector config with the first configured key."""
    from sqlalchemy import select, update

    from hub_api import audit
    from hub_api.readiness import WarehouseNotReady, open_existing_warehouse
    from hub_api.secret_box import SecretKeyError, rotate
    from hub_cli.users_cmd import actor
    from hub_core.schema_api import connector_config
    from hub_core.settings import get_settings

    try:
        engine = open_existing_warehouse(get_settings(warehouse_url=warehouse).warehouse_url)
    except WarehouseNotReady as exc:
        _fail(str(exc))
    c = connector_config.c
    try:
        with engine.begin() as conn:
            rows = conn.execute(select(c.name, c.config_encrypted).order_by(c.name)).all()
            for (name, _), token in zip(rows, rotate([r.config_encrypted for r in rows])):
                conn.execute(update(connector_config).where(c.name == name).values(config_encrypted=token))
            audit.record(conn, actor=actor(), action="connector.rotate_secrets", target="connector:*",
                         detail={"connectors": [r.name for r in rows]})
    except SecretKeyError as exc:
        _fail(str(exc))
    console.print(f"re-encrypted {len(rows)} connector configs with the newest key")


def register_api_commands(app: typer.Typer) -> None:
    """Add ``serve``, ``api`` and ``users`` to the main ``hub`` command."""
    app.command("serve")(serve)
    app.add_typer(api_app, name="api")
    app.add_typer(users_app, name="users")
