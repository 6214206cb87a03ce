"""What the ``hub`` command shows when things go wrong, and where the details go.

The console gets one line per failure; the full story (tracebacks, a tap's redacted stderr)
goes to a rotating log file, ``hub-data/logs/hub.log`` by default (``HUB_LOG_DIR``). ``-v``
also shows log lines and tracebacks on the console. :class:`HubTyper` is the safety net: an
unexpected exception becomes one line naming the log file instead of a screen of traceback.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("hub")

LOG_FILE_NAME = "hub.log"
_state = {"verbose": False, "log_file": None}


def log_dir() -> Path:
    """The log folder from the settings' environment (without importing pydantic-settings)."""
    return Path(os.environ.get("HUB_LOG_DIR", "hub-data/logs"))


def setup_logging(verbose: bool) -> Path | None:
    """Console: nothing (the commands print their own one-liners) unless ``verbose``; file: INFO
    and up, rotated at 5 MB, three old files kept. Returns the log file (None if unwritable)."""
    _state["verbose"] = verbose
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hub", False):
            root.removeHandler(handler)
    root.setLevel(logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._hub = True
    root.addHandler(console)
    path = log_dir() / LOG_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        _state["log_file"] = None
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
    handler._hub = True
    root.addHandler(handler)
    for noisy in ("alembic", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _state["log_file"] = path
    return path


def is_verbose() -> bool:
    """Whether ``-v`` was given."""
    return bool(_state["verbose"])


def where_details_are() -> str:
    """A hint telling where the full trace is."""
    hint = f"details in {_state['log_file']}" if _state["log_file"] else "details: run again with -v"
    return hint if _state["verbose"] else f"{hint} (or run with -v)"


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def explain_unexpected(exc: BaseException) -> str:
    """One line for an exception no command handled."""
    from_module = type(exc).__module__
    if type(exc).__name__ == "WarehouseError":
        return f"{exc} — check --warehouse / HUB_WAREHOUSE_URL"
    if type(exc).__name__ == "SourcesError":
        return str(exc)
    if from_module.startswith("sqlalchemy"):
        from hub_core.warehouse import describe_db_error

        return f"warehouse error: {describe_db_error(exc)} — {where_details_are()}"
    first = next((line for line in str(exc).splitlines() if line.strip()), "")[:200]
    return f"unexpected {type(exc).__name__}: {first} — {where_details_are()}"


class HubTyper(typer.Typer):
    """A Typer app whose uncaught exceptions become one line (trace in the log file; with -v
    also on the console), exit code 1."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            log.error("unhandled error", exc_info=exc)
            if _state["verbose"]:
                traceback.print_exception(exc, file=sys.stderr)
            err_console.print(f"[red]error:[/red] {escape(explain_unexpected(exc))}", highlight=False)
            sys.exit(1)
