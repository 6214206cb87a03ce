"""Third-party connectors installed the Meltano way: each in its own virtualenv.

A Singer tap or an Airbyte source from PyPI usually pins versions that clash with the hub's
lock (an older singer-sdk, airbyte-cdk < 7, another SQLAlchemy), so it never shares our
environment: ``hub plugins add NAME`` makes ``<plugins dir>/<NAME>/venv`` with ``uv venv`` and
``uv pip install``s the package there; the hub then runs the plugin's executable unchanged
(Singer through connectors/singer_runner.py, Airbyte through connectors/airbyte_runner.py).

The registry ``<plugins dir>/plugins.json`` records each plugin's kind, pip spec and
executable. The plugins dir is ``HUB_PLUGINS_DIR`` or ``hub-data/plugins``.
"""

from connectors.plugins.registry import (
    Plugin,
    PluginError,
    add_plugin,
    get_plugin,
    list_plugins,
    plugins_dir,
    remove_plugin,
)

__all__ = ["Plugin", "PluginError", "add_plugin", "get_plugin", "list_plugins", "plugins_dir", "remove_plugin"]
