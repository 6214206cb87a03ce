"""docs/data-model.md and the schema must agree: every unified table and column documented,
nothing documented that does not exist."""

import re
from pathlib import Path

from sqlalchemy import Table

from hub_core import schema_unified
from hub_core.schema import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def parse_doc(text: str) -> dict[str, list[str]]:
    """``### `table` `` headings, each followed by a table whose rows start ``| `column` |``."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^###\s+`([a-z0-9_]+)`\s*$", line)
        if heading:
            current = heading.group(1)
            assert current not in tables, f"{current} documented twice"
            tables[current] = []
            continue
        if line.startswith("#"):
            current = None
            continue
        row = re.match(r"^\|\s*`([a-z0-9_]+)`\s*\|", line)
        if row and current:
            tables[current].append(row.group(1))
    return tables


def test_every_unified_table_and_column_is_documented_and_nothing_else():
    documented = parse_doc(DOC.read_text(encoding="utf-8"))
    unified = {t.name: t for t in vars(schema_unified).values() if isinstance(t, Table)}
    assert sorted(set(unified) - set(documented)) == [], "tables missing from docs/data-model.md"
    assert sorted(set(documented) - set(metadata.tables)) == [], "documented tables that do not exist"
    for name, columns in documented.items():
        actual = list(metadata.tables[name].c.keys())
        assert len(columns) == len(set(columns)), f"{name}: a column documented twice"
        assert sorted(set(actual) - set(columns)) == [], f"{name}: columns missing from the doc"
        assert sorted(set(columns) - set(actual)) == [], f"{name}: documented columns that do not exist"


def test_parser_notices_drift():
    doc = "### `receipt`\n| column | type | meaning |\n|---|---|---|\n| `ref` | text | x |\n| `ghost` | int | y |\n"
    assert parse_doc(doc) == {"receipt": ["ref", "ghost"]}
