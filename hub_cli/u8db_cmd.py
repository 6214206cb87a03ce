"""``hub simulate-u8db``: lay a world's U8 section into a U8-shaped database (SQLite or
PostgreSQL URL), for trying tap-u8db (the ``u8db`` connector) without a real U8. Everything
heavy is imported inside the command so ``hub --help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub_cli.common import cli_console

console = cli_console()


def simulate_u8db(
    world: Annotated[Path, typer.Option(help="World file whose u8 section is written.")],
    url: Annotated[str, typer.Option(help="SQLAlchemy URL of the database to (re)create U8's tables in.")],
    db_schema: Annotated[str | None, typer.Option("--db-schema", help="Schema for the tables (PostgreSQL).")] = None,
) -> None:
    """Write a world's U8 records into U8's tables (Customer, SO_SOMain, DispatchList, ...); existing U8 tables there are replaced."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from connectors.tap_u8db.catalog import CatalogError
    from simulators.u8db import U8DBWriteError, write_world
    from simulators.world import WorldError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
        report = write_world(world, url, db_schema=db_schema)
    except (WorldError, U8DBWriteError, CatalogError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except ArgumentError:
        console.print("[red]error:[/red] --url is not a SQLAlchemy URL (e.g. sqlite:///u8.db)")
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        console.print(f"[red]error:[/red] cannot write to {shown}: {type(exc).__name__}: "
                      f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}")
        raise typer.Exit(1) from None
    console.print(report.summary())
    console.print(f"wrote the U8 tables of {world} to {shown}")


def register(app: typer.Typer) -> None:
    """Add ``simulate-u8db`` to the main CLI."""
    app.command("simulate-u8db")(simulate_u8db)
