"""One-screen summaries of a pipeline run for the terminal."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table


def print_pipeline(console: Console, result, out: Path) -> None:
    sources = Table(title="Sources", title_justify="left")
    for col in ("source", "status", "read", "landed", "set aside"):
        sources.add_column(col, justify="right" if col in ("read", "landed", "set aside") else "left")
    for asset, meta in sorted(result.metadata.items()):
        if asset.startswith("raw_"):
            status = meta.get("status", "?")
            sources.add_row(asset[4:], status if status == "succeeded" else f"[red]{status}[/red]",
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
    for failure in result.failures:
        console.print(f"[red]failed[/red] {failure}")
