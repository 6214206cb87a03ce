"""tap-finance: customer credit ratings from the finance REST API."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from connectors._singer_common import HubTap, base_url_property, tuning_properties
from connectors.tap_finance.auth import VENDOR_FILE, make_token_cache
from connectors.tap_finance.streams import CreditRatingStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapFinance(HubTap):
    """Finance / credit-rating API tap."""

    name = "tap-finance"
    token_cache_factory = make_token_cache
    vendor_file = VENDOR_FILE

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
        *tuning_properties(),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [CreditRatingStream(tap=self)]


if __name__ == "__main__":
    TapFinance.cli()
