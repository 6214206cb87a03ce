"""Message catalogues of the report: one YAML file per language, every label of every output.

Keeping the words out of Python lets a tenant fix a translation without touching code, and a test
checks that every language has the same keys.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_DIR = Path(__file__).parent


class Messages:
    """Look-ups into one catalogue: ``m("cols.owner")`` or ``m("and_more", n=3)``."""

    def __init__(self, lang: str, data: dict):
        self.lang = lang
        self.data = data

    def __call__(self, key: str, **fmt) -> str:
        node = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return key  # a missing label shows its key rather than breaking the report
            node = node[part]
        text = str(node)
        return text.format(**fmt) if fmt else text

    def rule(self, rule: str) -> str:
        """The rule's title in this language (the id itself for an unknown rule)."""
        return self.data.get("rules", {}).get(rule, rule)

    def word(self, group: str, value: str | None) -> str:
        """Translate a code (severity, status, stage) and fall back to the code itself."""
        if value is None:
            return ""
        return str(self.data.get(group, {}).get(value, value))


@cache
def messages(lang: str = DEFAULT_LANG) -> Messages:
    """The catalogue of ``lang``; a clear error for a language we do not ship."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(LANGS)}")
    data = yaml.safe_load((_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
    return Messages(lang, data)
