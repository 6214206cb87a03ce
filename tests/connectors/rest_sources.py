"""Data-only REST sources for ``connector: rest`` (connectors/kit/generic.py) used by the conformance
suite (tests/conformance/cases.py); tests/connectors/test_generic_rest.py writes its own."""

from __future__ import annotations

from connectors.tap_finance.tap import TapFinance

FINANCE_SETTINGS = """
config_schema:
  type: object
  required: [base_url, client_id, client_secret]
  properties:
    base_url: {type: string}
    client_id: {type: string}
    client_secret: {type: string, secret: true}
    page_size: {type: integer, minimum: 1}
"""


def finance_ratings_source(env) -> dict:
    """The conformance suite's ``connector: rest`` source (tests/conformance/cases.py): the finance
    demo's credit ratings as a data-only folder (tap-finance's token call and error table, one
    full-table page-paged stream), run against the finance simulator."""
    folder = env.tmp / "finance_ratings"
    (folder / "schemas").mkdir(parents=True, exist_ok=True)
    vendor = (TapFinance.package_dir / "vendor.yaml").read_text(encoding="utf-8")
    (folder / "vendor.yaml").write_text(vendor + FINANCE_SETTINGS, encoding="utf-8")
    schema = (TapFinance.package_dir / "schemas" / "credit_rating.json").read_text(encoding="utf-8")
    (folder / "schemas" / "credit_rating.json").write_text(schema, encoding="utf-8")
    (folder / "streams.yaml").write_text(
        "streams:\n"
        "  - {name: credit_rating, path: /api/v1/credit-ratings, primary_keys: [customer_code],\n"
        "     records: '$.data.items[*]', paging: {kind: page, param: page, size_param: page_size,\n"
        "     size_config: page_size, size_default: 100}}\n", encoding="utf-8")
    body = env.demo("finance", page_size=7)
    return {"connector": "rest", "config": {**body["config"], "source_dir": str(folder)}}
