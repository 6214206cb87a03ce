"""Turn a failed sync's error text into one line a person can act on.

The taps and the loader fail with long, technical texts (a traceback's last line, a driver
message). :func:`explain` picks the first matching rule of ``failures.yaml`` (data, not code:
IT can extend it) and fills in what to check, e.g. ``crm: connection refused at
http://127.0.0.1:9 — check base_url and that the CRM is reachable``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from connectors.kit import yamltext

RULES_FILE = Path(__file__).with_name("failures.yaml")
_MAX_REASON = 300
# "tap-x sync failed (exit 1): pkg.module.SomeError: text" -> "text"
_WRAPPER = re.compile(r"^\S+ (?:sync|--discover) failed \(exit -?\d+\): ")
_EXC_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Failure)\w*: ")


@dataclass(frozen=True)
class Explanation:
    """A classified failure: its kind (``connection_refused``, ``credentials``, ...) and the
    message (without the source name, which displays put in front)."""

    kind: str
    message: str


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> dict:
    """The rules file, parsed and with its patterns compiled."""
    data = yamltext.safe_load(Path(path).read_text(encoding="utf-8"))
    for rule in data["rules"]:
        rule["regex"] = re.compile(rule.get("match") or "", re.IGNORECASE | re.MULTILINE)
    return data


def reason_of(error: str) -> str:
    """The error text without the runner's wrapper and the exception class, shortened."""
    text = " ".join(error.split())
    text = _WRAPPER.sub("", text)
    text = _EXC_PREFIX.sub("", text)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def display_url(url: str | None, setting: str = "base_url") -> str:
    """An address fit for a message: no user info (a database URL's password), no query string."""
    if not url:
        return f"(no {setting})"
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", "")) or str(url)
    except ValueError:
        return f"(unparsable {setting})"


def address_setting(connector: str | None, rules: dict | None = None) -> str:
    """The config key saying where the connector's system is (``base_url``, ``sqlalchemy_url`` for
    a U8 database, ``folder`` for a drop folder): data in ``failures.yaml``."""
    rules = rules or load_rules()
    return str({**rules["default_system"], **(rules["systems"].get(connector or "", {}))}["setting"])


def address_of(connector: str | None, config: dict) -> str | None:
    """The value of the connector's address setting in ``config`` (for :func:`explain`)."""
    value = config.get(address_setting(connector))
    return None if value is None else str(value)


def explain(source: str, connector: str | None, base_url: str | None, error: str,
            rules: dict | None = None) -> Explanation:
    """Classify ``error`` (already free of secrets) for the named source; ``base_url`` is the value
    of the connector's address setting (see :func:`address_of`)."""
    rules = rules or load_rules()
    system = {**rules["default_system"], **(rules["systems"].get(connector or "", {}))}
    codes = {str(k): v for k, v in (system.get("codes") or {}).items()}
    fields = {"source": source, "system": system["name"], "setting": system["setting"],
              "base_url": display_url(base_url, system["setting"]),
              "reason": reason_of(error), "check": system["credentials"], "code": ""}
    for rule in rules["rules"]:
        match = rule["regex"].search(error)
        if not match:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        if rule.get("needs_known_code"):
            if groups.get("code") not in codes:
                continue
            fields["check"] = codes[groups["code"]]
        return Explanation(rule["kind"], rule["message"].format(**{**fields, **groups}))
    return Explanation("other", fields["reason"])
