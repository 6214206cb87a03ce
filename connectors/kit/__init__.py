"""Source-agnostic plumbing shared by the hub's Singer taps.

- :mod:`.errors` - the error classes a tap raises and the per-vendor error-code tables
  (data, one YAML file per vendor) that decide between retry, refresh-the-token, stop for
  configuration / quota, and fatal;
- :mod:`.pacing` - a thread-safe sliding-window pacer that keeps a tap process inside the
  vendor's call budget (it waits for a free slot instead of tripping the limit);
- :mod:`.retry` - the one retry policy (tenacity): honours ``Retry-After``, works to a time
  budget rather than a fixed count;
- :mod:`.tokens` - cached access tokens and the token-endpoint call, through the same pacer
  and retry policy as data calls;
- :mod:`.source` - :class:`~.source.SourceKit`, the per-process bundle (error table, pacer,
  retry policy) built from a tap's ``vendor.yaml`` and its config;
- :mod:`.schemas` - loose JSON-schema helpers and the config knobs every tap accepts.

Vendor data lives next to each tap: ``connectors/tap_<source>/vendor.yaml`` (``errors``,
``budgets``, ``retry``). Tap config overrides: ``rate_limits``, ``retry_budget_seconds``,
``backoff_factor``, ``max_tries``, ``request_timeout``.

Nothing in this package imports from the rest of the project.
"""
