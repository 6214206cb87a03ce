"""Deliver what the outbox holds to the WeCom / DingTalk robots.

Per robot and run: the messages due are posted one by one, each result recorded at once (its
own short transaction) so a crash loses nothing. The vendors allow 20 messages a minute per
robot; when more messages are due than the robot's remaining budget (posts of the last minute
count against it), they are folded into digest messages (as few as fit the byte limit) instead
of being posted one by one. A failed post (HTTP error, timeout, vendor errcode) stays pending
with its error and is retried with exponential backoff on a later send; a rate-limit answer
also stops posting to that robot for this run. Credentials are resolved from the environment
only here, and never reach logs, errors or the outbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from quality.alerts import outbox
from quality.alerts.config import (
    AlertConfigError,
    AlertsConfig,
    RobotConfig,
    RobotSecrets,
    load_alerts_config,
    resolve,
)
from quality.alerts.redact import install_log_filter, redact
from quality.alerts.render import pack_digests

log = logging.getLogger(__name__)
_MAX_ERROR = 300


@dataclass
class SendStats:
    """What one send run did."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0  # due but over the robot's budget this minute: stay pending for the next run
    digests: int = 0
    digested: int = 0  # messages folded into digests
    errors: list[str] = field(default_factory=list)  # one line per failure (no secrets)


class RobotRefused(Exception):
    """The robot answered with a non-zero errcode (or an HTTP error status)."""

    def __init__(self, text: str, errcode: int | None = None) -> None:
        super().__init__(text)
        self.errcode = errcode


def _payload(robot: RobotConfig, row) -> dict:
    mentions = json.loads(row.mentions or "{}")
    if robot.platform == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": row.body}}
    return {"msgtype": "markdown", "markdown": {"title": row.title, "text": row.body},
            "at": {"atMobiles": mentions.get("mobiles", []), "isAtAll": False}}


def dingtalk_signature(timestamp_ms: int, secret: str) -> str:
    """``base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}"))`` (the query encoder
    URL-encodes it once, as DingTalk expects)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def post(client, robot: RobotConfig, secrets: RobotSecrets, row) -> None:
    """Post one outbox row; raises :class:`RobotRefused` or an ``httpx`` error on failure."""
    base = robot.url.rstrip("/")
    if robot.platform == "wecom":
        url, params = f"{base}/cgi-bin/webhook/send", {"key": secrets.key}
    else:
        timestamp = int(time.time() * 1000)  # the vendor checks its own clock, within one hour
        url = f"{base}/robot/send"
        params = {"access_token": secrets.access_token, "timestamp": str(timestamp),
                  "sign": dingtalk_signature(timestamp, secrets.secret)}
    response = client.post(url, params=params, json=_payload(robot, row))
    if response.status_code >= 400:
        raise RobotRefused(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise RobotRefused(f"HTTP {response.status_code}: reply is not JSON") from None
    errcode = body.get("errcode") if isinstance(body, dict) else None
    if errcode not in (0, None):
        raise RobotRefused(f"errcode {errcode}: {body.get('errmsg', '')}", errcode)


def _backoff(cfg: AlertsConfig, attempts_before: int) -> timedelta:
    d = cfg.delivery
    return timedelta(seconds=min(d.retry_base_seconds * 2 ** attempts_before, d.retry_max_seconds))


def _describe(exc: Exception, secrets: RobotSecrets, cfg: AlertsConfig) -> str:
    text = str(exc) if isinstance(exc, RobotRefused) else f"{type(exc).__name__}: {exc}"
    text = redact(" ".join(text.split()), [*secrets.values(), *cfg.secret_values()])
    return text[:_MAX_ERROR]


def send_due(engine: Engine, config: AlertsConfig | None = None, now: datetime | None = None,
             client=None) -> SendStats:
    """Deliver every due outbox message (digests where a robot's budget is short)."""
    import httpx

    cfg = config or load_alerts_config()
    now = outbox.utc_now(now)
    install_log_filter()
    stats = SendStats()
    with engine.connect() as conn:
        due = outbox.due(conn, now)
    by_robot: dict[str, list] = {}
    for row in due:
        by_robot.setdefault(row.robot, []).append(row)
    own_client = client is None
    client = client or httpx.Client(timeout=cfg.delivery.timeout_seconds)
    try:
        for name, rows in by_robot.items():
            _send_robot(engine, cfg, name, rows, now, client, stats)
    finally:
        if own_client:
            client.close()
    log.info("alerts: %d sent, %d failed, %d deferred, %d digests carrying %d", stats.sent, stats.failed,
             stats.deferred, stats.digests, stats.digested)
    return stats


def _send_robot(engine: Engine, cfg: AlertsConfig, name: str, rows: list, now: datetime, client,
                stats: SendStats) -> None:
    robot = cfg.robots.get(name)
    try:
        if robot is None:
            raise AlertConfigError(f"robot {name} is not in the alerts file")
        secrets = resolve(name, robot)
    except AlertConfigError as exc:
        _fail_all(engine, cfg, rows, now, str(exc), stats)
        return
    try:
        with engine.begin() as conn:
            budget, rows = _plan(conn, cfg, name, robot, rows, now, stats)
    except outbox.ConcurrentSend as exc:  # rolled back: the other send delivers them
        log.info("alerts: robot %s skipped this run: %s", name, exc)
        return
    todo = rows[:budget]
    stats.deferred += len(rows) - len(todo)
    for index, row in enumerate(todo):
        with engine.begin() as conn:
            if not outbox.claim(conn, row, now, timedelta(seconds=cfg.delivery.timeout_seconds + 60)):
                continue  # another send took it
        error, rate_limited = None, False
        try:
            post(client, robot, secrets, row)
        except Exception as exc:
            error = _describe(exc, secrets, cfg)
            rate_limited = isinstance(exc, RobotRefused) and exc.errcode in cfg.delivery.rate_limit_errcodes
        with engine.begin() as conn:
            outbox.record_attempt(conn, row, now, error, _backoff(cfg, row.attempts))
        if error is None:
            stats.sent += 1
            continue
        stats.failed += 1
        stats.errors.append(f"robot {name}, message {row.id}: {error}")
        log.warning("alert %d to robot %s failed (attempt %d): %s", row.id, name, row.attempts + 1, error)
        if rate_limited:  # the robot's minute is used up elsewhere: leave the rest for the next run
            stats.deferred += len(todo) - index - 1
            break


def _plan(conn, cfg: AlertsConfig, name: str, robot: RobotConfig, rows: list, now: datetime,
          stats: SendStats) -> tuple[int, list]:
    """The robot's remaining budget this minute and the rows to post, after folding the excess
    into digests when more are due than the budget allows."""
    budget = max(cfg.delivery.per_robot_per_minute - outbox.used_budget(conn, name, now), 0)
    if len(rows) <= budget or budget == 0:
        return budget, rows
    retried_digests = [r for r in rows if r.category == "digest"]
    room = budget - min(len(retried_digests), budget)
    singles = [r for r in rows if r.category != "digest"]
    packs = pack_digests(singles, robot.platform, cfg.labels,
                         cfg.delivery.max_bytes.get(robot.platform, 4096))[:room]
    for message, ids in packs:
        outbox.fold_into_digest(conn, name, message, ids, now)
    stats.digests += len(packs)
    stats.digested += sum(len(ids) for _, ids in packs)
    if packs:
        rows = [r for r in outbox.due(conn, now) if r.robot == name]
        rows.sort(key=lambda r: (r.category != "digest" or r.attempts > 0, r.id))  # fresh digests first
    return budget, rows


def _fail_all(engine: Engine, cfg: AlertsConfig, rows: list, now: datetime, error: str, stats: SendStats) -> None:
    with engine.begin() as conn:
        for row in rows:
            outbox.record_attempt(conn, row, now, error, _backoff(cfg, row.attempts))
    stats.failed += len(rows)
    stats.errors.append(error)
    log.warning("alerts: %s (%d messages kept for retry)", error, len(rows))
