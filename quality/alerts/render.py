"""Message text for the robots: one discrepancy, a stale source, or a digest of many.

A message is rendered once, for the platform of the robot it is queued for, and stored in the
outbox as it will be posted: WeCom markdown mentions people inline with ``<@userid>``; DingTalk
markdown needs ``@<mobile>`` in the text plus ``at.atMobiles``. Every text fits the platform's
byte limit (``delivery.max_bytes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub_core.settings import DEFAULT_TIMEZONE
from quality.alerts.config import Labels
from quality.alerts.people import Person

ELLIPSIS = "…"


@dataclass
class Message:
    """What one outbox row holds: a short title, the markdown body and who is mentioned."""

    title: str
    body: str
    userids: list[str] = field(default_factory=list)
    mobiles: list[str] = field(default_factory=list)

    def mentions_json(self) -> str:
        """The ``mentions`` column."""
        return json.dumps({"userids": self.userids, "mobiles": self.mobiles})


def fit(text: str, max_bytes: int) -> str:
    """``text`` cut (on a character boundary, marked with …) to at most ``max_bytes`` UTF-8 bytes."""
    if len(text.encode()) <= max_bytes:
        return text
    budget = max_bytes - len(ELLIPSIS.encode())
    return text.encode()[:budget].decode("utf-8", errors="ignore") + ELLIPSIS


def money(cents: int | None) -> str:
    """CNY with thousands separators, exact to the cent."""
    cents = cents or 0
    sign = "-" if cents < 0 else ""
    return f"{sign}¥{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def mention_line(platform: str, people: list[Person]) -> tuple[str, list[str], list[str]]:
    """The mention markers for the text and the ids/mobiles for the payload."""
    if platform == "wecom":
        ids = list(dict.fromkeys(p.wecom_userid for p in people if p.wecom_userid))
        return " ".join(f"<@{u}>" for u in ids), ids, []
    mobiles = list(dict.fromkeys(p.mobile for p in people if p.mobile))
    return " ".join(f"@{m}" for m in mobiles), [], mobiles


def _heading(platform: str, color: str, text: str) -> str:
    if platform == "wecom":
        return f'#### <font color="{color}">{text}</font>'
    return f"#### {text}"


def discrepancy_message(d, level: int, people: list[Person], platform: str, labels: Labels,
                        now: datetime, max_bytes: int) -> Message:
    """One discrepancy at one escalation level (``d`` is a ``discrepancy`` row)."""
    f = labels.fields
    severity = labels.severity.get(d.severity, d.severity)
    rule = f"{d.rule} {labels.rules.get(d.rule, '')}".strip()
    level_text = labels.level.format(level=level)
    title = f"{severity} · {rule} · {d.customer_name or d.customer_id or '-'} · {money(d.amount_cents)} ({level_text})"
    first_seen = d.first_seen
    age_days = (now - first_seen).total_seconds() / 86400
    local = first_seen.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
    marks, userids, mobiles = mention_line(platform, people)
    lines = [
        _heading(platform, labels.color.get(d.severity, "warning"), f"{severity} · {rule} ({level_text})"),
        f"> {f['customer']}: {d.customer_name or '-'} ({d.customer_id or '-'})",
        f"> {f['amount']}: {money(d.amount_cents)}",
        f"> {f['owner']}: {d.owner or '-'} · {d.region or '-'}",
        f"> {f['first_seen']}: {local} ({age_days:.1f} {f['days']})",
        f"> {f['id']}: {d.discrepancy_id}",
    ]
    return _finish(title, lines, marks, userids, mobiles, max_bytes)


def stale_message(source: str, reason: str, age: timedelta | None, platform: str, labels: Labels,
                  max_bytes: int) -> Message:
    """A source that failed or went stale: the hub keeps serving its last good data."""
    f = labels.fields
    title = labels.stale_title.format(source=source)
    lines = [_heading(platform, "warning", title), f"> {f['reason']}: {reason}"]
    if age is not None:
        lines.append(f"> {f['age']}: {age.total_seconds() / 3600:.1f} h")
    return _finish(title, lines, "", [], [], max_bytes)


def _finish(title: str, lines: list[str], marks: str, userids: list[str], mobiles: list[str],
            max_bytes: int) -> Message:
    tail = f"\n{marks}" if marks else ""
    body = fit("\n".join(lines), max_bytes - len(tail.encode())) + tail
    return Message(fit(title, 256), body, userids, mobiles)


def pack_digests(rows: list, platform: str, labels: Labels, max_bytes: int) -> list[tuple[Message, list[int]]]:
    """Batch outbox rows into as few digest messages as fit ``max_bytes`` each.

    Each row becomes one line (its title); the mentions of the rows a digest carries are merged.
    Returns (message, ids of the rows it carries) in row order.
    """
    digests: list[tuple[Message, list[int]]] = []
    lines: list[str] = []
    ids: list[int] = []
    userids: list[str] = []
    mobiles: list[str] = []

    def render(lines_: list[str], userids_: list[str], mobiles_: list[str]) -> Message:
        title = labels.digest_title.format(count=len(lines_))
        marks = " ".join([f"<@{u}>" for u in userids_] if platform == "wecom" else [f"@{m}" for m in mobiles_])
        body = "\n".join([_heading(platform, "warning", title), *lines_]) + (f"\n{marks}" if marks else "")
        return Message(title, body, list(userids_), list(mobiles_))

    for row in rows:
        mentions = json.loads(row.mentions or "{}")
        line = fit(f"- {row.title}", max_bytes // 4)
        new_users = list(dict.fromkeys(userids + mentions.get("userids", [])))
        new_mobiles = list(dict.fromkeys(mobiles + mentions.get("mobiles", [])))
        candidate = render([*lines, line], new_users, new_mobiles)
        if lines and len(candidate.body.encode()) > max_bytes:
            digests.append((render(lines, userids, mobiles), ids))
            lines, ids = [], []
            new_users = mentions.get("userids", [])
            new_mobiles = mentions.get("mobiles", [])
        lines.append(line)
        ids.append(row.id)
        userids, mobiles = list(dict.fromkeys(new_users)), list(dict.fromkeys(new_mobiles))
    if lines:
        digests.append((render(lines, userids, mobiles), ids))
    for message, _ in digests:
        message.body = fit(message.body, max_bytes)
    return digests
