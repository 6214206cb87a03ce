"""The per-process bundle of one source: its error table, call budgets and retry policy."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from connectors.kit.errors import ErrorTable, load_vendor_file
from connectors.kit.pacing import Pacer, budgets_from
from connectors.kit.retry import RetryPolicy


@dataclass
class SourceKit:
    """What every call of one source in one tap process shares.

    One instance per tap process (``HubTap.kit``): every stream, every worker thread and the
    token endpoint use the same :class:`Pacer`, so the process as a whole stays inside the
    vendor's budget.
    """

    name: str
    errors: ErrorTable | None
    pacer: Pacer
    retry: RetryPolicy

    @classmethod
    def create(
        cls,
        name: str,
        config: t.Mapping[str, t.Any],
        vendor_file: str | Path | None = None,
    ) -> SourceKit:
        """Defaults from the vendor file (if any), overridden by the tap config
        (``rate_limits``, ``retry_budget_seconds``, ``backoff_factor``, ``max_tries``)."""
        vendor = load_vendor_file(str(vendor_file)) if vendor_file else {}
        errors = ErrorTable.from_mapping(vendor["errors"]).with_config(config) if "errors" in vendor else None
        budgets = budgets_from(vendor.get("budgets") or [], config.get("rate_limits"))
        return cls(
            name=name,
            errors=errors,
            pacer=Pacer(budgets, source=name),
            retry=RetryPolicy.from_config(config, vendor.get("retry")),
        )
