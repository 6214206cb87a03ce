"""report.html: one self-contained page (inline CSS and SVG, no script, no network) for managers.

Source text (customer, owner, deal names) is untrusted: Jinja autoescaping covers the page and
``charts`` escapes what it draws, so only those SVG strings are marked safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from quality.report import charts
from quality.report.data import ReportData
from quality.report.i18n import Messages
from quality.report.texts import yuan

__all__ = ["build_charts", "item_row", "item_rows", "render_html", "write_html", "yuan"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value):
    """Drop control characters (other than line breaks and tabs) from source text."""
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup is ours, already safe
        return _CONTROL.sub("", value)
    return value


def _dt(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def build_charts(d: ReportData, m: Messages) -> dict[str, str]:
    """The SVG charts of the report, keyed by where the template places them."""
    weeks = [w.strftime("%m-%d") for w in d.trend["weeks"]]
    def count(v):
        return f"{v:,.0f}"

    def money(v):
        return charts.compact_money(v, m.lang)

    out = {}
    for dim in ("rule", "region"):
        counts = dict(d.trend[dim])
        cents = dict(d.trend[dim + "_cents"])
        if dim == "rule":  # rules in their own order, named
            keys = sorted(counts, key=lambda r: int(r[1:]) if r[1:].isdigit() else 99)
            label = {r: f"{r} {m.rule(r)}" for r in keys}
        else:  # regions by how much they carry now; same colours in both charts
            keys = sorted(counts, key=lambda r: (-counts[r][-1], -sum(counts[r]), r))
            label = {r: r or "-" for r in keys}
        counts = {label[k]: counts[k] for k in keys}
        cents = {label[k]: cents[k] for k in keys}
        order = [label[k] for k in keys]
        title = m(f"sections.trend_{dim}")
        out[f"{dim}_count"] = charts.stacked_bars(f"{title} · {m('charts.count')}", weeks, counts, count,
                                                  m("charts.no_data"), order=order, integer=True)
        out[f"{dim}_amount"] = charts.stacked_bars(f"{title} · {m('charts.amount')}", weeks, cents, money,
                                                   m("charts.no_data"), order=order)
    buckets = [(m(f"aging.{b['key']}"), b) for b in d.aging]
    severity_names = {s: m.word("severity", s) for s in charts.SEVERITY_COLORS}
    out["aging"] = charts.severity_bars(m("sections.aging"), buckets, severity_names,
                                        lambda b: f"{b['count']} · ¥{yuan(b['cents'])}")
    return out


@cache
def _template():
    """The page template, compiled once per process (a long-running API or Dagster process writes
    many reports; Jinja's own cache lives in the environment, which this keeps)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "html.j2"]),
                      finalize=_printable)
    env.filters["yuan"] = yuan
    env.filters["dt"] = _dt
    return env.get_template("report.html.j2")


def _out(value) -> str:
    """What ``{{ value }}`` prints in the template: finalized (``_printable``), then autoescaped."""
    return escape(_printable(value))


# the cells many rows share (severity, rule, owner, manager, region, change, stage): made once each.
# ``typed``: a str and an equal Markup are different cells (one is escaped, the other is not).
_shared = lru_cache(maxsize=4096, typed=True)(_out)


@lru_cache(maxsize=1024)
def _when(moment: datetime, zone) -> str:
    return _dt(moment)  # keyed by the zone too: equal instants in two zones print differently


@lru_cache(maxsize=4096, typed=True)
def _head(severity, rule, m: Messages) -> str:
    return (f'<tr class="{_shared(severity)}"><td class="sev">{_shared(m.word("severity", severity))}</td>'
            f'<td title="{_shared(m.rule(rule))}">{_shared(rule)}</td>')


@lru_cache(maxsize=4096, typed=True)
def _people(owner, manager, region) -> str:
    return f'<td>{_shared(owner or "-")}</td><td>{_shared(manager or "-")}</td><td>{_shared(region or "-")}</td>'


@lru_cache(maxsize=4096, typed=True)
def _age(age_days, change, m: Messages) -> str:
    return (f'<td class="num">{_shared(age_days)}</td>'
            f'<td class="{_shared(change)}">{_shared(m.word("change", change))}</td>')


def item_row(i, m: Messages) -> Markup:
    """One open item's table row, as the template printed it cell by cell (same finalizing and
    escaping): here once per item in Python, where Jinja spent about 70 us per row on its own
    machinery - 1.3 s of CPU for a 10k-customer report's 19k items. ``i`` is read by attribute
    (an ``OpenItem``'s fields, or an ``Item``'s keys). Runs of cells that many rows share are made
    once per combination of their values (``_head``, ``_people``, ``_age``: the caches are keyed by
    type too, so a str and an equal Markup stay apart). An amount prints digits, commas, a point and
    a sign only: nothing to escape."""
    first = i.first_seen_local
    return Markup(
        f'{_head(i.severity, i.rule, m)}<td class="wrap">{_out(i.customer_name or m("unmatched"))}</td>'
        f'{_people(i.owner, i.manager, i.region)}<td class="num">{yuan(i.cents)}</td>{_age(i.age_days, i.change, m)}'
        f'<td class="wrap">{_out(i.deal or "")}</td><td>{_shared(m.word("stage", i.stage))}</td>'
        f'<td>{_out(i.close_date or "")}</td><td><code>{_out(i.documents)}</code></td>'
        f'<td>{_shared(_when(first, first.tzinfo) if first else "")}</td></tr>')


_ROWS = 256  # rows per piece of the page


def item_rows(items, m: Messages, new_only: bool = False) -> Iterator[Markup]:
    """The rows of an item table (each followed by a line break, as the template's loop printed
    them), ``_ROWS`` to a piece: the template then prints a piece where it printed a row, and
    Jinja's per-row cost (a loop step, a call, finalizing, escaping) is paid once per piece."""
    piece = []
    for i in items:
        if new_only and i.change != "new":
            continue
        piece.append(item_row(i, m))
        piece.append("\n")
        if len(piece) >= 2 * _ROWS:
            yield Markup("".join(piece))
            piece.clear()
    if piece:
        yield Markup("".join(piece))


def _pieces(d: ReportData, m: Messages) -> Iterator[str]:
    """The page, piece by piece as the template makes it (a piece of an item table is many rows)."""
    svgs = {k: Markup(v) for k, v in build_charts(d, m).items()}  # escaped in charts.py
    return _template().generate(d=d, m=m, charts=svgs, font=Markup(charts.FONT),
                                new_rows=item_rows(d.items, m, new_only=True), open_rows=item_rows(d.items, m))


def render_html(d: ReportData, m: Messages) -> str:
    """The whole page as text."""
    return "".join(_pieces(d, m))


_FLUSH = 1 << 20  # characters gathered before they are written


def write_html(path: Path, d: ReportData, m: Messages) -> None:
    """Write the page to ``path`` as it is made (UTF-8), never holding the whole page: a big
    world's page is hundreds of MB of text (every open item is a row, a new one twice)."""
    with open(path, "w", encoding="utf-8") as out:
        buffer, size = [], 0
        for piece in _pieces(d, m):
            buffer.append(piece)
            size += len(piece)
            if size >= _FLUSH:
                out.write("".join(buffer))
                buffer.clear()
                size = 0
        out.write("".join(buffer))
