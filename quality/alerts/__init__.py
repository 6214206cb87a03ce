"""Owner-routed alerts to WeCom / DingTalk group robots.

- :mod:`~quality.alerts.routing`: which discrepancies are due at which escalation level, and the
  stale-source hook :func:`~quality.alerts.routing.queue_source_stale_alert`; both write to the
  outbox only.
- :mod:`~quality.alerts.delivery`: posts what the outbox holds, within the robots' rate limits
  (digests when short), retrying failures on later runs.
- :mod:`~quality.alerts.outbox`, :mod:`~quality.alerts.render`, :mod:`~quality.alerts.people`,
  :mod:`~quality.alerts.config` (``quality/alerts.yaml``), :mod:`~quality.alerts.redact`.
"""
