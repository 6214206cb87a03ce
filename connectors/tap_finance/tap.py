"""tap-finance: customer credit ratings from the finance REST API.

Streams, schemas, error codes, call budgets and the token call are data beside this file
(``streams.yaml``, ``schemas/``, ``vendor.yaml``; see docs/connectors-kit.md).
"""

from __future__ import annotations

from pathlib import Path

from singer_sdk import typing as th

from connectors.kit.schemas import (
    base_url_property,
    catalogue_property,
    tuning_properties,
)
from connectors.kit.tap import HubTap
from connectors.tap_finance.streams import RatingPassStream


class TapFinance(HubTap):
    """Finance / credit-rating API tap."""

    name = "tap-finance"
    package_dir = Path(__file__).parent
    stream_kinds = {"rating_pass": RatingPassStream}

    config_jsonschema = th.PropertiesList(
        base_url_property(),
        th.Property("client_id", th.StringType, required=True),
        th.Property("client_secret", th.StringType, required=True, secret=True),
        th.Property(
            "start_date",
            th.StringType,
            description="ISO date/date-time: without a bookmark, read ratings since it.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=1000),
            default=100,
            description="Items per page.",
        ),
        catalogue_property(),
        *tuning_properties(),
    ).to_dict()


if __name__ == "__main__":
    TapFinance.cli()
