"""The connectors the conformance suite runs: ONE LINE EACH. Add yours here.

``make(env)`` returns the source's body as in connectors.yaml (``connector:`` / ``command:`` /
``plugin:`` / ``manifest:`` plus ``config:``) for the test environment ``env``
(:class:`tests.conformance.harness.Env`: simulator URLs and the demo sources, a scratch folder,
helpers that install plugins). ``required`` is a config field the connector cannot run without
(the suite drops it and expects a clear error naming it); ``wrong`` a field whose wrong value
the connection check must refuse. ``future`` turns a state into one "in the future" (default:
every date/time or epoch value in it becomes 2099-12-31). ``marks``: e.g. ``(pytest.mark.slow,)``.
``rereads``: the connector sends all records again whatever its state (then the suite checks
only that nothing new lands, not that nothing is read).

Examples for new connectors (a built-in tap runs as its executable; anything it needs set up,
such as a database file, comes from a function of yours taking ``env``)::

    Case("tap-files", lambda env: {"command": ["tap-files"], "config": {"path": env.write("a.csv", "id\\n1\\n")}},
         "path", None),
    Case("tap-u8db", tests.connectors.u8db_helpers.conformance_source, "url", "password"),
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.u8db import sample_database
from tests.conformance.harness import Case, fake_future
from tests.connectors.rest_sources import finance_ratings_source

CASES: list[Case] = [
    Case("tap-fxiaoke", lambda env: env.demo("crm"), "app_secret", "app_secret"),
    Case("tap-u8", lambda env: env.demo("u8"), "app_secret", "app_secret"),
    Case("tap-finance", lambda env: env.demo("finance"), "client_secret", "client_secret"),
    Case("tap-wecom", lambda env: env.demo("wecom"), "corpsecret", "corpsecret"),
    Case("tap-u8db", lambda env: {"connector": "u8db", "config": {"sqlalchemy_url": sample_database(env.tmp)}},
         "sqlalchemy_url", "sqlalchemy_url"),
    Case("tap-files", lambda env: {"connector": "files", "config": {
        "folder": str(Path(env.write("ratings.csv", "客户编码,信用等级\nC0001,AA\n")).parent),
        "streams": [{"name": "credit_rating", "pattern": "ratings.csv"}]}}, "folder", "folder"),
    Case("tap-rest", finance_ratings_source, "client_secret", "client_secret"),
    Case("manifest-finance", lambda env: env.demo("finance", manifest="finance_credit_ratings", page_size=7),
         "client_secret", "client_secret"),
    Case("plugin-airbyte-local", lambda env: {"plugin": env.fake_airbyte_plugin(), "config": {"count": 6}},
         "count", "fail_check", future=fake_future),
    # (tap-jsonl bookmarks each file's mtime but reads every file whatever the state: rereads=True.)
    Case("plugin-singer-tap-jsonl", lambda env: env.pypi_plugin("tap-jsonl", config=env.jsonl_config()),
         "path", None, marks=(pytest.mark.slow,), rereads=True),
    # (faker's `purchases` emit naive times their schema declares with a timezone: the hub sets those
    # records aside, see tests/connectors/test_plugins_pypi.py; the suite reads the other streams.)
    Case("plugin-airbyte-source-faker", lambda env: env.pypi_plugin("source-faker", config=env.faker_config(),
                                                                    streams=["users", "products"]),
         None, None, marks=(pytest.mark.slow,)),
]
