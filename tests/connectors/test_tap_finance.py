"""tap-finance against the credit-rating simulator: standard suite + targeted behaviour."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.kit.errors import SourceConfigError
from connectors.tap_finance.streams import RatingPassStream as CreditRatingStream
from connectors.tap_finance.tap import TapFinance
from simulators import credentials
from tests.connectors import helpers

FIN = credentials.FINANCE
TOKEN_PATH = "/api/v1/auth/token"
LIST_PATH = "/api/v1/credit-ratings"


def base_config(url: str, **overrides: object) -> dict:
    auth = {"client_id": FIN.client_id, "client_secret": FIN.client_secret}
    return helpers.tap_config(url, auth, **overrides)


def run_tap(config: dict, state: dict | None = None) -> helpers.SyncResult:
    """A sync whose ``records`` is the list of the tap's one stream, ``credit_rating``."""
    result = helpers.sync_tap(TapFinance, config, state)
    return dataclasses.replace(result, records=result.records.get("credit_rating", []))


def rating(code: str, rated_at: str, grade: str = "AA", **extra: object) -> dict:
    return {
        "customer_code": code, "uscc": "91110108551385082Q", "customer_name": f"客户{code}",
        "rating": grade, "previous_rating": "A", "credit_limit": 500000,
        "credit_days": 60, "rated_at": rated_at, **extra,
    }


# ------------------------------------------------------------------ standard suite


def standard_world() -> dict:
    return {"finance": {"credit_rating": [
        rating("C001", "2026-10-01", "AAA"), rating("C002", "2026-10-05", "BB"),
        rating("C003", "2026-10-09", "C"),
    ]}}


STANDARD_CONFIG = base_config("http://127.0.0.1:9/finance", page_size=2)

_StandardTests = helpers.standard_tests(TapFinance, STANDARD_CONFIG, "finance", standard_world)


class TestTapFinanceStandard(_StandardTests):  # type: ignore[misc, valid-type]
    """singer-sdk's standard tap tests, against a simulator started for this class."""


# ------------------------------------------------------------------ targeted tests


sim, fin = helpers.simulator_fixtures("finance", "fin")


def ratings(n: int) -> list[dict]:
    return [rating(f"C{i:03d}", f"2026-10-{i % 28 + 1:02d}") for i in range(n)]


def test_pages_until_a_short_page(fin, monkeypatch):
    fin.set_world({"finance": {"credit_rating": ratings(25)}})
    seen = helpers.record_results(monkeypatch, CreditRatingStream, "get_url_params", dict)
    result = run_tap(base_config(fin.urls["finance"], page_size=10))
    assert len(result.records) == 25
    assert len({r["customer_code"] for r in result.records}) == 25
    assert [p["page"] for p in seen] == [1, 2, 3]
    assert all(p["page_size"] == 10 for p in seen)
    assert all("updated_since" not in p for p in seen)  # no bookmark, no start_date

    fin.sims["finance"].calls.clear()
    fin.set_world({"finance": {"credit_rating": ratings(20)}})
    assert len(run_tap(base_config(fin.urls["finance"], page_size=10)).records) == 20
    assert fin.sims["finance"].calls[LIST_PATH] == 3  # full, full, empty


def test_incremental_uses_updated_since_from_the_bookmark(fin):
    live = [rating("C001", "2026-10-01"), rating("C002", "2026-10-03"),
            rating("C003", "2026-10-03"), rating("C004", "2026-09-20")]
    fin.set_world({"finance": {"credit_rating": live}})
    config = base_config(fin.urls["finance"])
    first = run_tap(config)
    assert len(first.records) == 4
    assert first.state["bookmarks"]["credit_rating"]["replication_key_value"] == "2026-10-03"

    live[0].update(rating="BBB", previous_rating="AA", rated_at="2026-11-02")
    live.append(rating("C005", "2026-11-05", "A"))
    second = run_tap(config, state=first.state)
    codes = sorted(r["customer_code"] for r in second.records)
    # changed + new, plus the bookmark day's ratings (the API's filter is inclusive)
    assert codes == ["C001", "C002", "C003", "C005"]
    assert "C004" not in codes
    assert second.state["bookmarks"]["credit_rating"]["replication_key_value"] == "2026-11-05"


def test_start_date_limits_the_first_run(fin):
    fin.set_world({"finance": {"credit_rating": [
        rating("C001", "2026-09-01"), rating("C002", "2026-10-15"),
    ]}})
    result = run_tap(base_config(fin.urls["finance"], start_date="2026-10-01"))
    assert [r["customer_code"] for r in result.records] == ["C002"]


def test_malformed_values_pass_through_and_do_not_become_the_bookmark(fin):
    odd = rating("C009", "not-a-date", credit_limit="abc", credit_days="sixty", note="x")
    good = rating("C010", "2026-10-10")
    fin.set_world({"finance": {"credit_rating": [odd, good]}})
    result = run_tap(base_config(fin.urls["finance"]))
    assert sorted(result.records, key=lambda r: r["customer_code"]) == [odd, good]
    assert result.state["bookmarks"]["credit_rating"]["replication_key_value"] == "2026-10-10"


def test_expired_token_is_refreshed_once(fin):
    same_day = [rating(f"C{i}", "2026-10-01") for i in range(3)]  # all re-read (inclusive)
    fin.set_world({"finance": {"credit_rating": same_day}})
    tap = TapFinance(config=base_config(fin.urls["finance"]), parse_env_config=False)
    stream = tap.streams["credit_rating"]
    helpers.capture_sync(stream)
    fin.expire_tokens("finance")  # HTTP 401, code 40102
    buf = helpers.capture_sync(stream)
    assert buf.getvalue().count('"type":"RECORD"') == 3
    assert fin.sims["finance"].calls[TOKEN_PATH] == 2


def test_server_errors_are_retried(fin):
    fin.set_world({"finance": {"credit_rating": ratings(3)}})
    fin.inject_fault("finance", count=1, code=503, path="credit-ratings")
    fin.inject_fault("finance", count=1, code=429, path="credit-ratings")
    assert len(run_tap(base_config(fin.urls["finance"])).records) == 3
    assert fin.sims["finance"].calls[LIST_PATH] == 3


def test_bad_secret_is_a_clear_config_error_without_the_secret(fin):
    secret = "wrong-finance-secret-0c11"
    with pytest.raises(SourceConfigError) as info:
        run_tap(base_config(fin.urls["finance"], client_secret=secret))
    message = str(info.value)
    assert "client_secret" in message
    assert "40100" in message
    assert secret not in message
    assert fin.sims["finance"].calls[TOKEN_PATH] == 1
