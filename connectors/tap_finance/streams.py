"""Finance stream: ``credit_rating`` (key ``customer_code``, incremental on ``rated_at``)."""

from __future__ import annotations

import typing as t
from datetime import datetime

from connectors._singer_common import loose_object, prop
from connectors.tap_finance.client import FinanceStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

RATINGS = ["AAA", "AA", "A", "BBB", "BB", "B", "C"]


def _parse_iso(value: t.Any) -> datetime | None:  # noqa: ANN401
    if not isinstance(value, str) or len(value) < 10:  # noqa: PLR2004
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


class CreditRatingStream(FinanceStream):
    """Customer credit ratings.

    Incremental: the bookmark is the greatest ``rated_at`` seen (an ISO date); the next
    run asks ``updated_since=<bookmark>``. The API's filter is inclusive (a bare date
    cannot tell earlier from later ratings of the same day), so the last day's ratings
    come again - harmless, the hub dedupes by key and content. Items are not assumed to
    be sorted; the bookmark is written when the stream completes.
    """

    name = "credit_rating"
    path = "/api/v1/credit-ratings"
    primary_keys: t.ClassVar[list[str]] = ["customer_code"]
    replication_key = "rated_at"
    is_sorted = False
    schema = loose_object(
        {
            "customer_code": prop("string"),
            "uscc": prop("string"),
            "customer_name": prop("string"),
            "rating": prop("string", description=f"One of {RATINGS}"),
            "previous_rating": prop("string"),
            "credit_limit": prop("number", "string"),
            "credit_days": prop("integer", "string"),
            "rated_at": prop("string", fmt="date"),
        },
        "Customer credit ratings",
    )

    def is_valid_bookmark_value(self, value: t.Any) -> bool:  # noqa: ANN401, PLR6301
        return _parse_iso(value) is not None

    def compare_start_date(self, value: str, start_date_value: str) -> str:  # noqa: PLR6301
        """The later of the bookmark and ``start_date`` (both ISO)."""
        bookmark, start = _parse_iso(value), _parse_iso(start_date_value)
        if bookmark is None:
            return start_date_value
        if start is None:
            return value
        if bookmark.tzinfo is None or start.tzinfo is None:
            bookmark, start = bookmark.replace(tzinfo=None), start.replace(tzinfo=None)
        return value if bookmark >= start else start_date_value

    def get_url_params(
        self,
        context: Context | None,
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        since = self.get_starting_replication_key_value(context)
        if since:
            params["updated_since"] = since
        return params
