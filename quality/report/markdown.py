"""report.md: the digest posted to chat — it must fit one WeCom markdown message.

Most urgent items first; when they do not all fit, the list ends with "…and N more" and points at
the full report. Source text is made safe for a Markdown table cell (no pipe, no line break, no
markup, no control character).
"""

from __future__ import annotations

import re
import unicodedata

from quality.report.data import ReportData, settings
from quality.report.html import yuan
from quality.report.i18n import Messages

_MARKUP = re.compile(r"([\\|`*_\[\]<>#~])")
_CELL_MAX = 40  # characters of one source text in the digest


def md_cell(text, limit: int = _CELL_MAX) -> str:
    """Source text as one safe Markdown table cell."""
    text = "".join(ch for ch in str(text) if ch.isspace() or unicodedata.category(ch) != "Cc")
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return _MARKUP.sub(r"\\\1", text)


def _size(lines: list[str]) -> int:
    return len("\n".join(lines).encode("utf-8")) + 1


def _item_row(i: dict, m: Messages) -> str:
    what = i["deal"] or i["documents"] or i["refs"][0]
    return (f"| {m.word('severity', i['severity'])} | {i['rule']} | {md_cell(i['customer_name'] or m('unmatched'))} "
            f"| {md_cell(i['owner'] or '-', 12)} | {yuan(i['cents'])} | {i['age_days']} | {md_cell(what)} |")


def dt(moment) -> str:
    """A local time as people write it."""
    return moment.strftime("%Y-%m-%d %H:%M")


def render_markdown(d: ReportData, m: Messages, max_bytes: int | None = None) -> str:
    """The digest, at most ``max_bytes`` UTF-8 bytes (default: settings ``digest_max_bytes``)."""
    limit = max_bytes or settings()["digest_max_bytes"]
    c = d.counts
    head = [f"# {m('title')} · {dt(d.as_of)}",
            f"{m('window')} {dt(d.since)} – {dt(d.as_of)} ({m('timezone_note')})", "",
            f"| {m('kpi.metric')} | {m('kpi.count')} | {m('kpi.amount')} |", "|---|---:|---:|",
            f"| {m('kpi.open')} | {c['open']} | {yuan(d.total_cents)} |",
            f"| {m('kpi.new')} | {c['new']} | {yuan(c['cents']['new'])} |",
            f"| {m('kpi.persisting')} | {c['persisting']} | {yuan(c['cents']['persisting'])} |",
            f"| {m('kpi.resolved')} | {c['resolved']} | {yuan(c['cents']['resolved'])} |", ""]
    if d.rollups["rule"]:
        head += [f"## {m('sections.by_rule')}",
                 f"| {m('cols.rule')} | {m('cols.rule_title')} | {m('cols.count')} | {m('cols.red')} | {m('cols.amount')} |",
                 "|---|---|---:|---:|---:|"]
        head += [f"| {r['key']} | {md_cell(m.rule(r['key']), 40)} | {r['count']} | {r['red']} | {yuan(r['cents'])} |"
                 for r in d.rollups["rule"]]
        head.append("")
    tail = ["", f"## {m('sections.sources')}",
            f"| {m('cols.source')} | {m('cols.last_success')} | {m('cols.freshness_hours')} | {m('cols.last_status')} |",
            "|---|---|---:|---|"]
    for s in d.sources:
        age = f"{s['age_hours']}" + (f" {m('stale')}" if s["stale"] else "") if s["age_hours"] is not None else "-"
        last = dt(s["last_success"]) if s["last_success"] else m("status.never")
        tail.append(f"| {md_cell(s['source'])} | {last} | {age} | {m.word('status', s['status'])} |")
    tail += [m("deletions_withheld", source=md_cell(s["source"]), count=s["withheld"])
             for s in d.sources if s.get("withheld")]
    held = ", ".join(md_cell(r) for r in d.held_back) or m("none")
    tail += ["", f"{m('sections.held_back')}: {held}", m("customers_line", customers=d.customer_count,
                                                         review=d.review_count)]
    tail += [m("landing_line", source=md_cell(s["source"]), quarantined=s["quarantined"], drift=s["drift"])
             for s in d.sources if s.get("quarantined") or s.get("drift")]  # landing quality (hub quarantine)
    body = [f"## {m('sections.open_items')}",
            (f"| {m('cols.severity')} | {m('cols.rule')} | {m('cols.customer')} | {m('cols.owner')} "
             f"| {m('cols.amount')} | {m('cols.age_days')} | {m('cols.deal')} |"), "|---|---|---|---|---:|---:|---|"]
    if not d.items:
        body = [f"## {m('sections.open_items')}", m("none")]
    shown = 0
    for item in d.items[:settings()["digest_max_items"]]:
        row = _item_row(item, m)
        more = f"{m('and_more', n=len(d.items) - shown - 1)} · {m('more_in_files')}"
        if _size(head + body + [row, "", more] + tail) > limit:
            break
        body.append(row)
        shown += 1
    if shown < len(d.items):
        body += ["", f"{m('and_more', n=len(d.items) - shown)} · {m('more_in_files')}"]
    lines = head + body + tail
    if _size(lines) > limit:  # only when the fixed parts alone are too long (many sources)
        while lines and _size(lines + ["…"]) > limit:
            lines.pop()
        lines.append("…")
    return "\n".join(lines) + "\n"
