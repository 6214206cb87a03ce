"""The hub's Singer tap kit: a REST source as data, plus small focused modules of plumbing.

A REST tap is a package ``connectors/tap_<source>/`` holding data - ``vendor.yaml`` (error
codes, call budgets, retry defaults, the token call), ``streams.yaml`` (the stream catalogue)
and ``schemas/*.json`` - and a ``tap.py`` with its name, config schema and only the Python that
data cannot say (see docs/connectors-kit.md). The modules:

- :mod:`.tap` - ``HubTap``: builds the tap from those files (one kit and one token per run);
- :mod:`.catalogue` - the catalogue, schema files through singer-sdk's ``SchemaDirectory``,
  generated stream classes and ``CatalogueStream`` (a stream driven by its entry alone);
- :mod:`.rest` - ``HubRESTStream``: pacing, retry, error table, token refresh, on singer-sdk's
  public hooks;
- :mod:`.auth` - the token call as data and the one authenticator (header / query / body);
- :mod:`.transport` - the same requests as ``Session.prepare_request`` / ``send``, by a shorter
  path (one call per document on U8);
- :mod:`.bookmarks` - the hub's bookmark policy (singer-sdk privates, with :mod:`.records`);
- :mod:`.records` - RECORD messages without singer-sdk's no-op per-record walks;
- :mod:`.writer` - the batching stdout writer (orjson lines) every hub tap uses;
- :mod:`.errors` - error classes and the per-vendor error-code tables;
- :mod:`.pacing` - a thread-safe sliding-window pacer inside the vendor's call budget;
- :mod:`.retry` - the one retry policy (tenacity, ``Retry-After``, a time budget);
- :mod:`.tokens` - the token cache and the token-endpoint call;
- :mod:`.source` - ``SourceKit``, the per-process bundle (error table, pacer, retry policy);
- :mod:`.schemas` - loose JSON-schema helpers and the config knobs every tap accepts;
- :mod:`.rejects` - the ``_rejects`` stream every tap writes set-aside records to;
- :mod:`.unchanged` - full-table streams skip records the hub already holds (its offer in the
  config) and report the keys they saw on the ``_unchanged`` stream.

Tap config overrides: ``rate_limits``, ``retry_budget_seconds``, ``backoff_factor``,
``max_tries``, ``request_timeout``, ``catalogue_file``, ``emit_unchanged``.

Nothing in this package imports from the rest of the project.
"""
