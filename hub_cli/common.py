"""Small pieces every ``hub`` command module shares: options, settings, opening the warehouse."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="SQLAlchemy URL (default: HUB_WAREHOUSE_URL or a local SQLite file).")]
ConnectorsOpt = Annotated[Path | None, typer.Option("--connectors", help="Sources YAML (default: HUB_CONNECTORS_FILE or ./connectors.yaml).")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).")]


def cli_console(stderr: bool = False) -> Console:
    """A console for ``hub`` output. On a terminal it takes the terminal's width; elsewhere
    (pipes, CI logs, a scheduler's captured output) rich would assume 80 columns and cut tables,
    so it prints 200 wide unless COLUMNS says otherwise. Rich reads COLUMNS when the console is
    made, so a module-level console keeps the width of its import (80 in a pytest-xdist worker):
    make one per command where a table must not be cut."""
    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = 200
    return console


def settings(warehouse: str | None = None, connectors: Path | None = None):
    """The hub settings, with command-line values winning over the environment."""
    from hub_core.settings import get_settings

    return get_settings(warehouse_url=warehouse, connectors_file=connectors)


def load_chosen_sources(connectors_file: Path, chosen: list[str] | None, enabled_only: bool = True):
    """The configured sources, narrowed to ``chosen``; a bad file or unknown name is one error line."""
    from connectors.sources import SourcesError, load_sources
    from hub_cli.diagnostics import fail

    try:
        configured = load_sources(connectors_file)
    except SourcesError as exc:
        fail(str(exc))
    unknown = sorted(set(chosen or []) - {s.name for s in configured})
    if unknown:
        fail(f"no such source in {connectors_file}: {', '.join(unknown)}")
    return [s for s in configured if (s.enabled or not enabled_only) and (not chosen or s.name in chosen)]


def warehouse_engine(url: str):
    """An up-to-date warehouse engine after marking runs of dead processes ``interrupted``."""
    from connectors.runs import recover_interrupted
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(url)
    recover_interrupted(engine)
    return engine
