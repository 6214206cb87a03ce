"""``hub plugins add|list|remove``: third-party Singer taps and Airbyte sources, each in its own venv.

Installing is the Meltano way (see connectors/plugins): ``hub plugins add tap-jsonl`` or
``hub plugins add source-faker`` (kind and PyPI package guessed from the name), then a source in
connectors.yaml says ``plugin: <name>``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Third-party connectors (Singer taps, Airbyte sources) from PyPI, each in its own venv.",
                  no_args_is_help=True)
console = Console(soft_wrap=True)

KindOpt = Annotated[str | None, typer.Option("--kind", help="singer or airbyte (default: airbyte for source-*, else singer).")]
PipOpt = Annotated[str | None, typer.Option("--pip-url", help="What to pip install (default: the name; airbyte-<name> for source-*).")]
ExeOpt = Annotated[str | None, typer.Option("--executable", help="The command it installs (default: the name).")]


def register(parent: typer.Typer) -> None:
    """Add ``hub plugins`` to the main app (one line in hub_cli/main.py)."""
    parent.add_typer(app, name="plugins")


@app.command("add")
def add(name: str, pip_url: PipOpt = None, kind: KindOpt = None, executable: ExeOpt = None) -> None:
    """Install (or reinstall) a plugin into its own virtualenv and record it."""
    from connectors.plugins import PluginError, add_plugin
    from hub_cli.diagnostics import fail

    try:
        with console.status(f"installing {name} ..."):
            plugin = add_plugin(name, pip_url=pip_url, kind=kind, executable=executable)
    except PluginError as exc:
        fail(str(exc))
    console.print(f"[green]installed[/] {plugin.name} ({plugin.kind}, {plugin.pip_url}) in {plugin.venv}")
    console.print(f"use it in connectors.yaml:  sources: {{my_source: {{plugin: {plugin.name}, config: {{...}}}}}}")


@app.command("list")
def list_cmd() -> None:
    """List the installed plugins."""
    from connectors.plugins import PluginError, list_plugins, plugins_dir
    from hub_cli.diagnostics import fail

    try:
        plugins = list_plugins()
    except PluginError as exc:
        fail(str(exc))
    if not plugins:
        console.print(f"no plugins installed in {plugins_dir()} (add one with `hub plugins add NAME`)")
        return
    table = Table(title=f"Plugins in {plugins_dir()}", title_justify="left")
    for column in ("name", "kind", "pip url", "executable", "installed"):
        table.add_column(column, overflow="fold")
    for p in plugins:
        table.add_row(p.name, p.kind, p.pip_url, p.executable, p.installed_at)
    console.print(table)


@app.command("remove")
def remove(name: str) -> None:
    """Uninstall a plugin (its virtualenv is deleted)."""
    from connectors.plugins import PluginError, remove_plugin
    from hub_cli.diagnostics import fail

    try:
        remove_plugin(name)
    except PluginError as exc:
        fail(str(exc))
    console.print(f"removed {name}")
