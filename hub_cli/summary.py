"""One-screen summaries of a pipeline run for the terminal."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub_core.settings import LANDED_STATUSES

# A sync refused for its lock has no run row (and so no error line) of its own.
_NO_RUN_REASON = {"refused": "another sync of it was already running — try again when it ends (hub runs)"}


def _source_errors(warehouse_url: str | None, result) -> dict[str, str]:
    """The one-line error of each failed source's sync run, from the warehouse."""
    ids = {asset[4:]: meta.get("sync_run_id") for asset, meta in result.metadata.items()
           if asset.startswith("raw_") and meta.get("status") not in LANDED_STATUSES and meta.get("sync_run_id")}
    if not ids or not warehouse_url:
        return {}
    from sqlalchemy import select

    from hub_core.schema import sync_run
    from hub_core.warehouse import make_engine

    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(sync_run.c.source, sync_run.c.error).where(sync_run.c.id.in_(ids.values())))
            return {r.source: r.error or "" for r in rows}
    finally:
        engine.dispose()


def print_pipeline(console: Console, result, out: Path, warehouse_url: str | None = None) -> None:
    """Sources, customer-360 and discrepancy tables, then one line per failure."""
    sources = Table(title="Sources", title_justify="left")
    for col in ("source", "status", "read", "landed", "set aside"):
        sources.add_column(col, justify="right" if col in ("read", "landed", "set aside") else "left")
    for asset, meta in sorted(result.metadata.items()):
        if asset.startswith("raw_"):
            status = meta.get("status", "?")
            shown = {"succeeded": status, "partial": f"[yellow]{status}[/yellow]"}.get(status, f"[red]{status}[/red]")
            sources.add_row(asset[4:], shown,
                            str(meta.get("records_seen")), str(meta.get("records_landed")),
                            str(meta.get("records_rejected")))
    console.print(sources)
    model = result.metadata.get("customer_360", {})
    if model:
        console.print(f"Customer-360: {model.get('customers')} customers from {model.get('customer_records')} "
                      f"source records ({model.get('review')} waiting for review), "
                      f"{model.get('opportunities')} opportunities, {model.get('orders')} orders")
    path = Path(out) / "discrepancies.json"
    if path.exists():
        items = json.loads(path.read_text(encoding="utf-8"))
        table = Table(title="Open discrepancies", title_justify="left")
        for col in ("rule", "red", "orange", "yellow", "amount (CNY)"):
            table.add_column(col, justify="left" if col == "rule" else "right")
        by_rule: dict[str, Counter] = {}
        amounts: Counter = Counter()
        for item in items:
            by_rule.setdefault(item["rule"], Counter())[item["severity"]] += 1
            amounts[item["rule"]] += float(item["amount_cny"])
        for rule in sorted(by_rule, key=lambda r: int(r[1:])):
            c = by_rule[rule]
            table.add_row(rule, str(c["red"]), str(c["orange"]), str(c["yellow"]), f"{amounts[rule]:,.2f}")
        console.print(table)
        console.print(f"Results in [bold]{Path(out).resolve()}[/bold]: discrepancies.json, customers.json, "
                      "report.md, report.html, report.xlsx")
    errors = _source_errors(warehouse_url, result)
    for source, status in sorted((getattr(result, "failed_sources", None) or {}).items()):
        why = errors.get(source) or _NO_RUN_REASON.get(status, "see hub runs")
        console.print(f"[red]{escape(source)}: {escape(status)}[/red] — {escape(why)}",
                      highlight=False, soft_wrap=True)
    for source, why in sorted((getattr(result, "stale_sources", None) or {}).items()):
        console.print(f"[red]{escape(source)}: stale[/red] — {escape(why)} (its rules held back)",
                      highlight=False, soft_wrap=True)
    for failure in result.failures:
        first = next((line for line in failure.splitlines() if line.strip()), failure)
        console.print(f"[red]failed[/red] {escape(first[:300])}", highlight=False, soft_wrap=True)
