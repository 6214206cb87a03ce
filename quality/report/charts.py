"""Inline SVG charts drawn in Python: the report opens offline, with no script and no CDN.

Every text that may come from source data (region names, ...) is XML-escaped here, so the SVG
string can be placed in the HTML as-is. Chinese renders through the font-family stack below.
"""

from __future__ import annotations

import math
import unicodedata
from html import escape

FONT = "'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939"]
SEVERITY_COLORS = {"red": "#d93025", "orange": "#f29900", "yellow": "#f6d32d"}
MAX_SERIES = 8


def text_width(text: str, size: float = 12) -> float:
    """Approximate rendered width: East-Asian wide characters take a full em, others about half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def nice_ceiling(value: float, ticks: int = 4, integer: bool = False) -> float:
    """The top of a readable axis at or above ``value``: ``ticks`` equal steps of 1, 2, 2.5, 3, 4,
    5, 6 or 8 x 10^k (whole steps only for counts)."""
    if value <= 0:
        return ticks if integer else 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if integer and step != int(step):
            continue
        if step >= raw:
            return step * ticks
    return 10 * magnitude * ticks


def compact_money(cents: float, lang: str) -> str:
    """Axis label for money: 12.5万 in Chinese, 125k in English."""
    yuan = cents / 100
    if lang == "zh":
        if yuan >= 1_000_000:
            return f"{yuan / 10000:,.0f}万"
        return f"{yuan / 10000:,.1f}万".replace(".0万", "万") if yuan >= 10000 else f"{yuan:,.0f}"
    if yuan >= 1_000_000:
        return f"{yuan / 1_000_000:,.1f}M".replace(".0M", "M")
    return f"{yuan / 1000:,.0f}k" if yuan >= 1000 else f"{yuan:,.0f}"


def _top_series(series: dict[str, list[float]], other: str, order: list[str] | None) -> dict[str, list[float]]:
    """Keep the first series of ``order`` (default: the biggest); fold the rest into one "other"
    series so the legend stays short. The same order in two charts keeps the same colours."""
    rank = {k: n for n, k in enumerate(order or [])}
    ranked = sorted(series.items(), key=lambda kv: (rank.get(kv[0], len(rank)), -sum(kv[1]), kv[0]))
    if len(ranked) <= MAX_SERIES:
        return dict(ranked)
    kept = dict(ranked[:MAX_SERIES - 1])
    rest = [sum(vals) for vals in zip(*(v for _, v in ranked[MAX_SERIES - 1:]), strict=True)]
    kept[other] = rest
    return kept


def _legend(names: list[str], colors: list[str], width: float, top: float) -> tuple[list[str], float]:
    parts, x, y = [], 10.0, top
    for name, color in zip(names, colors, strict=True):
        w = 18 + text_width(name) + 14
        if x + w > width and x > 10:
            x, y = 10.0, y + 18
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 16:.0f}" y="{y:.0f}">{escape(name)}</text>')
        x += w
    return parts, y + 12


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
            f'width="100%" style="max-width:{width:.0f}px" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'font-family="{FONT}" font-size="12" fill="#333">' + "".join(body) + "</svg>")


def stacked_bars(label: str, x_labels: list[str], series: dict[str, list[float]], fmt, empty: str,
                 order: list[str] | None = None, integer: bool = False, other: str = "…",
                 width: float = 560, plot_height: float = 200) -> str:
    """Weekly stacked columns, one colour per series (rule or region), with a legend below."""
    series = _top_series(series, other, order)
    totals = [sum(col) for col in zip(*series.values(), strict=True)] if series else [0] * len(x_labels)
    top = nice_ceiling(max(totals, default=0), integer=integer)
    left, right, head = 64.0, 10.0, 10.0
    plot_w = width - left - right
    slot = plot_w / max(len(x_labels), 1)
    bar_w = slot * 0.62
    body = []
    for n in range(5):  # grid and y axis labels
        value = top * n / 4
        y = head + plot_height - plot_height * n / 4
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    for col, x_label in enumerate(x_labels):
        x = left + slot * col + (slot - bar_w) / 2
        base = head + plot_height
        for (name, values), color in zip(series.items(), colors, strict=True):
            h = plot_height * values[col] / top
            if h > 0:
                base -= h
                body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
                            f'<title>{escape(name)} {escape(x_label)}: {escape(fmt(values[col]))}</title></rect>')
        if totals[col]:
            body.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" font-size="11">'
                        f'{escape(fmt(totals[col]))}</text>')
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{head + plot_height + 16:.1f}" text-anchor="middle">'
                    f'{escape(x_label)}</text>')
    if not any(totals):
        body.append(f'<text x="{left + plot_w / 2:.0f}" y="{head + plot_height / 2:.0f}" text-anchor="middle" '
                    f'fill="#999">{escape(empty)}</text>')
    legend, bottom = _legend(list(series), colors, width, head + plot_height + 40)
    return _svg(width, bottom + 6, label, body + legend)


def severity_bars(label: str, buckets: list[tuple[str, dict]], severity_names: dict[str, str], fmt,
                  width: float = 620) -> str:
    """Horizontal bars per aging bucket, split by severity, with the count at the end of each bar."""
    left = max((text_width(name) for name, _ in buckets), default=40) + 16
    row_h, head = 28.0, 8.0
    peak = nice_ceiling(max((sum(b.get(s, 0) for s in SEVERITY_COLORS) for _, b in buckets), default=0), integer=True)
    plot_w = width - left - 180
    body = []
    for n, (name, bucket) in enumerate(buckets):
        y = head + n * row_h
        body.append(f'<text x="{left - 8:.0f}" y="{y + 15:.0f}" text-anchor="end">{escape(name)}</text>')
        x = left
        for severity, color in SEVERITY_COLORS.items():
            w = plot_w * bucket.get(severity, 0) / peak
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="{row_h - 8:.0f}" '
                            f'fill="{color}"><title>{escape(severity_names.get(severity, severity))}: '
                            f'{bucket.get(severity, 0)}</title></rect>')
                x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y + 15:.0f}">{escape(fmt(bucket))}</text>')
    names = [severity_names.get(s, s) for s in SEVERITY_COLORS]
    legend, bottom = _legend(names, list(SEVERITY_COLORS.values()), width, head + len(buckets) * row_h + 18)
    return _svg(width, bottom + 6, label, body + legend)
