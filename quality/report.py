"""Write the result files of world-and-results.md: discrepancies.json, customers.json and the
human report (report.md, report.html, report.xlsx)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from hub_core.schema import customer, customer_review, customer_xref, discrepancy, reconcile_run, sync_run

RULE_TITLES = {
    "R1": "won in CRM, no ERP sales order",
    "R2": "shipped in ERP, CRM not updated",
    "R3": "CRM and ERP amounts differ",
    "R4": "capital-chain risk",
    "R5": "receivable overdue",
    "R6": "master-data conflict",
    "R7": "stale follow-up",
    "R8": "dormant top customer",
    "R9": "invoice / receipt mismatch",
    "R10": "off-channel selling",
    "R11": "pseudo-progress",
}
_SEVERITY_ORDER = {"red": 0, "orange": 1, "yellow": 2}
_TEMPLATES = Path(__file__).with_name("templates")


def money(cents: int) -> str:
    """Exact CNY amount as a string with two decimals."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def iso_local(moment: datetime | None, tz: str = "Asia/Shanghai") -> str | None:
    return _utc(moment).astimezone(ZoneInfo(tz)).isoformat() if moment else None


@dataclass
class ReportFiles:
    out_dir: Path
    discrepancies: int
    customers: int
    files: list[Path]


def open_discrepancies(engine: Engine) -> list[dict]:
    """Open and acknowledged discrepancies in the result-file shape, most urgent first."""
    d = discrepancy.c
    with engine.connect() as conn:
        rows = conn.execute(select(discrepancy).where(d.status.in_(["open", "acknowledged"]))).all()
    items = [
        {"rule": r.rule, "severity": r.severity, "customer_id": r.customer_id, "customer_name": r.customer_name,
         "owner": r.owner, "region": r.region, "amount_cny": money(r.amount_cents), "refs": json.loads(r.refs),
         "first_seen": iso_local(r.first_seen), "status": r.status}
        for r in rows
    ]
    items.sort(key=lambda i: (int(i["rule"][1:]), _SEVERITY_ORDER.get(i["severity"], 9),
                              -Decimal(i["amount_cny"]), i["refs"][0]))
    return items


def customer_crosswalk(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        names = dict(conn.execute(select(customer.c.customer_id, customer.c.name)).all())
        refs = defaultdict(list)
        for cid, ref in conn.execute(select(customer_xref.c.customer_id, customer_xref.c.ref).order_by(customer_xref.c.ref)):
            refs[cid].append(ref)
    return [{"customer_id": cid, "name": names[cid], "refs": refs[cid]} for cid in sorted(names)]


def _context(engine: Engine, items: list[dict], customers: int) -> dict:
    with engine.connect() as conn:
        last = conn.execute(select(reconcile_run).order_by(reconcile_run.c.id.desc()).limit(1)).first()
        latest = select(sync_run.c.source, func.max(sync_run.c.id).label("id")).group_by(sync_run.c.source).subquery()
        runs = conn.execute(select(sync_run).join(latest, latest.c.id == sync_run.c.id).order_by(sync_run.c.source)).all()
        review = conn.execute(select(func.count()).select_from(customer_review)).scalar_one()
    by_rule = defaultdict(lambda: {"red": 0, "orange": 0, "yellow": 0, "cents": 0})
    for i in items:
        entry = by_rule[i["rule"]]
        entry[i["severity"]] += 1
        entry["cents"] += int(Decimal(i["amount_cny"]) * 100)
    as_of = last.as_of if last else datetime.now(UTC)
    return {
        "as_of_local": iso_local(as_of)[:16].replace("T", " "),
        "generated_local": iso_local(datetime.now(UTC))[:16].replace("T", " "),
        "open": items,
        "total_amount": money(sum(v["cents"] for v in by_rule.values())),
        "counts": {"new": last.new_count if last else 0, "resolved": last.resolved_count if last else 0},
        "by_rule": [{"rule": rule, "title": RULE_TITLES.get(rule, rule), "red": v["red"], "orange": v["orange"],
                     "yellow": v["yellow"], "amount": money(v["cents"])}
                    for rule, v in sorted(by_rule.items(), key=lambda kv: int(kv[0][1:]))],
        "sources": [{"source": r.source, "finished": (iso_local(r.finished_at) or "")[:16].replace("T", " "),
                     "status": r.status, "landed": r.records_landed, "rejected": r.records_rejected} for r in runs],
        "customer_count": customers,
        "review_count": review,
    }


def _write_xlsx(path: Path, items: list[dict]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value):
        # Control characters from source data are illegal in XLSX: drop them, not the report.
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    wb = Workbook()
    ws = wb.active
    ws.title = "discrepancies"
    header = ["rule", "severity", "customer_id", "customer_name", "owner", "region", "amount_cny", "anchor", "refs", "first_seen", "status"]
    ws.append(header)
    for i in items:
        ws.append([cell(v) for v in (i["rule"], i["severity"], i["customer_id"], i["customer_name"], i["owner"],
                                     i["region"], Decimal(i["amount_cny"]), i["refs"][0], " ".join(i["refs"]),
                                     i["first_seen"], i["status"])])
        ws.cell(row=ws.max_row, column=7).number_format = "#,##0.00"
    ws.freeze_panes = "A2"
    wb.save(path)


def write_report(engine: Engine, out_dir: Path) -> ReportFiles:
    """Write every result file into ``out_dir`` (created if needed)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = open_discrepancies(engine)
    crosswalk = customer_crosswalk(engine)
    files = [out_dir / "discrepancies.json", out_dir / "customers.json"]
    files[0].write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    files[1].write_text(json.dumps(crosswalk, ensure_ascii=False, indent=1), encoding="utf-8")
    # Source data (customer and owner names) is untrusted: escape it in the HTML report.
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "html.j2"]),
                      trim_blocks=False, keep_trailing_newline=True)
    env.filters["cny"] = lambda amount: f"{Decimal(amount):,.2f}"  # people read 1,234,567.89
    # Source text in a Markdown table cell: a pipe or a line break would split the row.
    env.filters["md"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")
    context = _context(engine, items, len(crosswalk))
    for name in ("report.md", "report.html"):
        path = out_dir / name
        path.write_text(env.get_template(f"{name}.j2").render(**context), encoding="utf-8")
        files.append(path)
    _write_xlsx(out_dir / "report.xlsx", items)
    files.append(out_dir / "report.xlsx")
    return ReportFiles(out_dir, len(items), len(crosswalk), files)
