"""The committed OpenAPI document (``docs/openapi.json``): generated from the app, so clients and
the schemathesis run test against what the code serves. Regenerate with
``hub api openapi --out docs/openapi.json``; a test fails when the committed copy is stale."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def openapi_document() -> str:
    """The OpenAPI document of the app, as stable, diff-friendly JSON text."""
    from hub_api.app import build_app

    def no_database():  # pragma: no cover - the document needs no warehouse
        raise RuntimeError("the OpenAPI document is built without a warehouse")

    return json.dumps(build_app(no_database).openapi(), indent=2, ensure_ascii=False) + "\n"


def write(path: Path = DEFAULT_PATH) -> Path:
    """Write the document to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(openapi_document(), encoding="utf-8")
    return path
