"""Import ``singer_sdk`` without running its package ``__init__`` until something needs it.

Why: every tap is a fresh process, and ``singer_sdk/__init__.py`` imports everything the SDK
offers - targets, sinks, mappers - so a tap also pays for ``joblib`` (and through it ``numpy``),
which only targets use: about 0.14 s of CPU per tap process here, paid by every sync of every
source. Our taps import submodules (``singer_sdk.typing``, ``singer_sdk.tap_base``, ...) and a few
names of the package (``Stream``, ``SchemaDirectory``, ...).

``install()`` puts the package in ``sys.modules`` with its real spec and path but without running
``__init__.py``; a module-level ``__getattr__`` resolves, on first use:

- a submodule name (``typing``, ``streams``, ...): that submodule, as the import system would;
- a name the SDK's ``__init__`` re-exports from a submodule (``Tap``, ``Stream``, ...): that
  submodule's attribute, so ``from singer_sdk import Stream`` is the same class object as always;
- anything else: the real ``__init__`` is run into the same module object, and the name looked up
  there - so nothing the SDK exports goes missing, it is only loaded later.

Installed by ``connectors/__init__.py``; a process that imported ``singer_sdk`` already keeps it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

# The names singer_sdk/__init__.py re-exports, and the submodule each comes from.
REEXPORTS = {
    "InlineMapper": "mapper_base", "PluginBase": "plugin_base", "OpenAPISchema": "schema.source",
    "SchemaDirectory": "schema.source", "SchemaSource": "schema.source", "StreamSchema": "schema.source",
    "BatchSink": "sinks", "RecordSink": "sinks", "Sink": "sinks", "GraphQLStream": "streams",
    "RESTStream": "streams", "Stream": "streams", "Tap": "tap_base", "Target": "target_base",
}
PACKAGE = "singer_sdk"


def install() -> bool:
    """Register the lazy package (once; not when ``singer_sdk`` is imported already or absent)."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return False
    module = importlib.util.module_from_spec(spec)
    loaded = False

    def __getattr__(name: str):
        nonlocal loaded
        if name in REEXPORTS:
            return getattr(importlib.import_module(f"{PACKAGE}.{REEXPORTS[name]}"), name)
        if not name.startswith("__") and importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:
            return importlib.import_module(f"{PACKAGE}.{name}")
        if not loaded:
            loaded = True
            del module.__getattr__  # the real __init__ defines its own
            spec.loader.exec_module(module)
            return getattr(module, name)
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__
    sys.modules[PACKAGE] = module
    return True
