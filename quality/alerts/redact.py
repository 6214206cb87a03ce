"""Keep robot credentials out of every log line, error text and stored row.

- :func:`redact` masks known secret values (and their URL-encoded forms) in a text.
- :func:`install_log_filter` makes the ``httpx`` logger (which logs each request URL at INFO)
  mask the ``key``, ``access_token`` and ``sign`` query parameters of robot URLs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_SECRET_QUERY = re.compile(r"([?&](?:key|access_token|sign)=)[^&\s\"'>]+")


def redact(text: str | None, secrets: Iterable[str] = ()) -> str:
    """``text`` with secret query parameters and every given secret value masked."""
    out = _SECRET_QUERY.sub(r"\1" + MASK, text or "")
    for value in secrets:
        if value:
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                out = out.replace(form, MASK)
    return out


class SecretQueryFilter(logging.Filter):
    """Rewrites a log record's message with secret query parameters masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = SecretQueryFilter()


def install_log_filter() -> None:
    """Attach the filter to the HTTP client loggers once (idempotent)."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
