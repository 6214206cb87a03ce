"""REST client for the finance / credit-rating API.

``GET /api/v1/credit-ratings?updated_since=<ISO>&page=<n>&page_size=<m>`` with a bearer
token -> ``{"code":0,"message":"ok","data":{"items":[...],"page","page_size","total"}}``.
Pages are walked until a short or empty page (``total`` is informational only).
Errors come from the table in ``vendor.yaml`` (shared with the token call): HTTP 401 =
token missing/invalid/expired (refresh once, retry); 429/5xx are retried within the
retry budget (``Retry-After`` honoured); any other non-zero ``code`` stops the sync.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.pagination import PageNumberPaginator

from connectors._singer_common import HubRESTStream, response_json
from connectors.tap_finance.auth import ERRORS, SECRET_KEYS, FinanceBearerAuthenticator

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


def page_items(payload: t.Any) -> list[t.Any]:
    """The ``data.items`` of a list reply ([] when absent)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _items(response: requests.Response) -> list[t.Any]:
    return page_items(response_json(response))


class ShortPagePaginator(PageNumberPaginator):
    """``page`` 1, 2, ... until a page holds fewer than ``page_size`` items."""

    def __init__(self, page_size: int) -> None:
        super().__init__(1)
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        return len(_items(response)) >= self.page_size


class FinanceStream(HubRESTStream):
    """Base stream for the finance API."""

    secret_config_keys = SECRET_KEYS
    error_table = ERRORS

    @cached_property
    def authenticator(self) -> FinanceBearerAuthenticator:
        return FinanceBearerAuthenticator(self._tap.token_cache)  # type: ignore[attr-defined]

    @property
    def page_size(self) -> int:
        return max(1, int(self.config.get("page_size") or 100))

    def get_new_paginator(self) -> ShortPagePaginator:
        return ShortPagePaginator(self.page_size)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from _items(response)

    def get_url_params(
        self,
        context: Context | None,
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        return {"page": next_page_token or 1, "page_size": self.page_size}
