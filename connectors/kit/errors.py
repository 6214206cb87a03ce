"""Error classes and per-vendor error-code tables.

A vendor's codes live in a YAML table next to its tap (``vendor.yaml``, section ``errors``);
token calls and data calls classify with the same :class:`ErrorTable`, so they cannot drift
apart. Each code maps to one *action*:

``ok`` / ``no_data``   the call succeeded (``no_data``: an empty result);
``retry``              transient (busy, timeout): back off and retry within the time budget;
``rate``               rate limited: honour ``Retry-After``, back off and retry;
``token``              the access token was rejected: refresh it once and replay;
``config``             bad credentials / authorisation: stop the source at once;
``quota``              the daily quota is used up: stop the source at once;
``fatal``              anything else: stop this source with the vendor's code.

HTTP statuses are classified first for 429 (rate) and afterwards for 5xx (retry) and other
4xx (the table's ``http`` section, else fatal), so unknown vendor codes are still handled.
Messages are single lines and never carry secrets, query strings or record content.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from connectors.kit import yamltext

if t.TYPE_CHECKING:
    import requests

ACTIONS = frozenset({"ok", "no_data", "retry", "rate", "token", "config", "quota", "fatal"})
SUCCESS = frozenset({"ok", "no_data"})
MAX_MESSAGE = 200


class SourceKitError(ValueError):
    """A tap's own data (vendor file, stream catalogue) is malformed: one line, file and what."""


class SourceConfigError(FatalAPIError):
    """The source rejected our configuration (bad secret, unknown tenant, ...).

    Never retried. The message names the config keys to check, never their values.
    """


class SourceQuotaError(FatalAPIError):
    """A quota is exhausted (e.g. the daily call quota): stop the source and report."""


class TokenInvalidError(FatalAPIError):
    """The access token was rejected (missing / expired / revoked).

    Callers refresh the token once and replay the request; a second rejection becomes a
    :class:`SourceConfigError`.
    """


class RateLimitedError(RetriableAPIError):
    """The vendor said "too many calls" (HTTP 429 or a rate code): wait, then retry."""


class SourceAPIError(FatalAPIError):
    """A non-retriable vendor code; ``code`` lets callers tolerate specific ones."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def scrub(text: str, secrets: t.Iterable[t.Any]) -> str:
    """Replace every secret value occurring in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(str(secret)) >= 4:
            text = text.replace(str(secret), "***")
    return text


_URL_QUERY_RE = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\")]*")
_PATH_QUERY_RE = re.compile(r"(url: /[^\s'\"?]*)\?[^\s'\")]*")


def strip_query_strings(text: str) -> str:
    """Drop query strings from URLs in a message (they may carry credentials)."""
    text = _URL_QUERY_RE.sub(r"\1?<redacted>", text)
    return _PATH_QUERY_RE.sub(r"\1?<redacted>", text)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Collapse whitespace (a message is one log line) and cap its length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def int_code(payload: t.Any, key: str) -> int | None:
    """``payload[key]`` as an int (tolerates numeric strings); None when absent/odd."""
    if not isinstance(payload, dict):
        return None
    code = payload.get(key)
    if isinstance(code, bool):
        return None
    try:
        return int(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def normalise_code(value: t.Any) -> str | None:
    """A vendor code as text: ``20016``, ``"20016"`` and ``" 20016 "`` are all ``"20016"``."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    try:
        return str(int(text))
    except ValueError:
        return text or None


@dataclass(frozen=True)
class Rule:
    """What one code means: an action and, for stops, what the operator should check."""

    action: str
    hint: str = ""

    @classmethod
    def parse(cls, value: t.Any) -> Rule:
        """``retry`` or ``{action: config, hint: "check ..."}``."""
        if isinstance(value, str):
            value = {"action": value}
        if not isinstance(value, dict) or value.get("action") not in ACTIONS:
            msg = f"error table: bad rule {value!r} (action must be one of {sorted(ACTIONS)})"
            raise ValueError(msg)
        return cls(str(value["action"]), str(value.get("hint") or ""))


@dataclass(frozen=True)
class Verdict:
    """The classification of one response."""

    action: str
    code: str | None
    rule: Rule
    status: int = 200
    message: str = ""
    #: False when the body was not a JSON object (truncated, HTML error page, ...).
    readable: bool = True

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (data or "no data")."""
        return self.action in SUCCESS


@dataclass(frozen=True)
class ErrorTable:
    """One vendor's error codes (see the module docstring)."""

    vendor: str
    code_field: str
    message_field: str
    codes: dict[str, Rule] = field(default_factory=dict)
    http: dict[int, Rule] = field(default_factory=dict)
    missing: Rule = Rule("fatal")
    unknown: Rule = Rule("fatal")
    #: Config keys whose lists replace the codes of one action (``{token_errcodes: token}``).
    config_codes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: t.Mapping[str, t.Any]) -> ErrorTable:
        """Build from the ``errors`` section of a ``vendor.yaml``."""
        codes = {normalise_code(k): Rule.parse(v) for k, v in (data.get("codes") or {}).items()}
        return cls(
            vendor=str(data["vendor"]),
            code_field=str(data["code_field"]),
            message_field=str(data.get("message_field") or "message"),
            codes={k: v for k, v in codes.items() if k is not None},
            http={int(k): Rule.parse(v) for k, v in (data.get("http") or {}).items()},
            missing=Rule.parse(data.get("missing", "fatal")),
            unknown=Rule.parse(data.get("unknown", "fatal")),
            config_codes={str(k): Rule.parse(v).action for k, v in (data.get("config_codes") or {}).items()},
        )

    def with_config(self, config: t.Mapping[str, t.Any]) -> ErrorTable:
        """This table with the tenant's code lists (``config_codes``) in force: a list given in
        the config replaces the vendor's codes of that action."""
        codes = dict(self.codes)
        for key, action in self.config_codes.items():
            listed = config.get(key)
            if listed is None:
                continue
            codes = {c: r for c, r in codes.items() if r.action != action}
            codes.update({n: Rule(action) for n in map(normalise_code, listed) if n is not None})
        return replace(self, codes=codes)

    def code_of(self, payload: t.Any) -> str | None:
        """The payload's code as text, or None."""
        return normalise_code(payload.get(self.code_field)) if isinstance(payload, dict) else None

    def classify(self, payload: t.Any, status: int = 200) -> Verdict:
        """Classify one response (``payload`` None when the body is not a JSON object)."""
        code = self.code_of(payload)
        message = str(payload.get(self.message_field, "")) if isinstance(payload, dict) else ""
        known = self.codes.get(code) if code is not None else None
        if status == 429:
            rule = Rule("rate")
        elif known is not None and known.action not in SUCCESS:
            rule = known
        elif status >= 500:
            rule = Rule("retry")
        elif status >= 400:
            rule = self.http.get(status, Rule("fatal"))
        elif known is not None:
            rule = known
        elif code is None:
            rule = self.missing if isinstance(payload, dict) else Rule("retry")
        else:
            rule = self.unknown
        return Verdict(rule.action, code, rule, status, message, isinstance(payload, dict))

    def describe(self, verdict: Verdict, what: str, secrets: t.Iterable[t.Any] = ()) -> str:
        """One line: who failed, the vendor's code and message, what to check."""
        if verdict.code is not None:
            head = f"{self.vendor} {self.code_field} {verdict.code}"
        elif verdict.status != 200:
            head = f"HTTP {verdict.status}"
        elif not verdict.readable:
            head = f"{self.vendor} response is not JSON"
        else:
            head = f"{self.vendor} response without {self.code_field}"
        if verdict.status != 200 and verdict.code is not None:
            head += f" (HTTP {verdict.status})"
        text = f"{what}: {head}"
        if verdict.message:
            text += f" ({verdict.message})"
        if verdict.rule.hint:
            text += f"; {verdict.rule.hint}"
        return one_line(scrub(strip_query_strings(text), secrets), 400)

    def error(
        self,
        verdict: Verdict,
        what: str,
        response: requests.Response | None = None,
        secrets: t.Iterable[t.Any] = (),
        fatal_class: type[SourceAPIError] = SourceAPIError,
    ) -> Exception:
        """The exception for a failed verdict (see the module docstring)."""
        detail = self.describe(verdict, what, secrets)
        action = verdict.action
        if action == "rate":
            return RateLimitedError(detail, response)
        if action == "retry":
            return RetriableAPIError(detail, response)
        if action == "token":
            return TokenInvalidError(detail)
        if action == "config":
            return SourceConfigError(detail)
        if action == "quota":
            return SourceQuotaError(detail)
        return fatal_class(detail, verdict.code)


@cache
def load_vendor_file(path: str) -> dict[str, t.Any]:
    """A ``vendor.yaml`` (error table, call budgets, retry defaults), read once per process."""
    data = yamltext.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        msg = f"{path}: a vendor file must be a mapping"
        raise TypeError(msg)
    return data


def error_table(path: str | Path) -> ErrorTable:
    """The error table of the vendor file at ``path``."""
    return ErrorTable.from_mapping(load_vendor_file(str(path))["errors"])
