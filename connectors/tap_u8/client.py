"""The Python tap-u8 needs for the Yonyou U8 OpenAPI list endpoints (``kind: list``).

List: ``GET /api/{resource}/batch_get?from_account=&to_account=&app_key=&token=
&ds_sequence=&page_index=&rows_per_page=[&filters]`` ->
``{"errcode":"0","page_index":"1","rows_per_page":"100","row_count":"..",
"page_count":"..","<resource>":[...]}``. Page fields are *strings*; the stream walks
``page_index`` 1..``page_count``. ``errcode "20002"`` means "no data" (``no_data`` in ``vendor.yaml``): an
empty page, not an error. ``batch_get`` returns document *headers* only; document streams fetch
each document with ``GET /api/{name}/get?...&id=<key>`` (see :mod:`.streams`).

Replication: this base class is FULL_TABLE (the OpenAPI has no modified-since filter for most
resources); document lists and the inventory read a date window instead (:mod:`.documents`).
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import PageNumberPaginator

from connectors.kit.catalogue import CatalogueStream
from connectors.kit.rest import response_json

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


def _as_int(value: t.Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class U8PagePaginator(PageNumberPaginator):
    """``page_index`` 1..``page_count`` (both strings in the response).

    When ``page_count`` is missing or unreadable, a short page ends the walk.
    """

    def __init__(self, stream: U8Stream, start: int = 1) -> None:
        super().__init__(start)
        self.resource = stream.resource
        self.rows_per_page = stream.rows_per_page
        self.no_data = stream.no_data

    def has_more(self, response: requests.Response) -> bool:
        payload = response_json(response)
        if not isinstance(payload, dict) or self.no_data(payload):
            return False
        page_index = _as_int(payload.get("page_index")) or self.current_value
        page_count = _as_int(payload.get("page_count"))
        if page_count is not None:
            return page_index < page_count
        rows = payload.get(self.resource)
        return isinstance(rows, list) and len(rows) >= self.rows_per_page


class U8Stream(CatalogueStream):
    """One U8 OpenAPI list resource (the stream name is the resource name)."""

    @property
    def resource(self) -> str:
        return self.name

    def no_data(self, payload: t.Any) -> bool:
        """Whether a reply is the vendor's "no data" answer (an empty result)."""
        table = self.error_table
        return table is not None and table.classify(payload).action == "no_data"

    @property
    def rows_per_page(self) -> int:
        return max(1, int(self.config.get("page_size") or 100))

    def account_params(self) -> dict[str, t.Any]:
        """The caller / provider / data-source parameters of every data call."""
        ds_sequence = self.config.get("ds_sequence")
        return {
            "from_account": self.config.get("from_account"),
            "to_account": self.config.get("to_account"),
            "app_key": self.config.get("app_key"),
            "ds_sequence": 1 if ds_sequence is None else ds_sequence,
        }

    def get_new_paginator(self) -> U8PagePaginator:
        return U8PagePaginator(self)

    def get_url_params(
        self,
        context: Context | None,
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        params = {
            **self.account_params(),
            "page_index": next_page_token or 1,
            "rows_per_page": self.rows_per_page,
        }
        for param, config_key in self.catalogue_entry.config_params.items():
            value = self.config.get(config_key)
            if value not in (None, ""):
                params[param] = value
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        payload = response_json(response)
        if self.no_data(payload):
            return
        rows = payload.get(self.resource) if isinstance(payload, dict) else None
        if isinstance(rows, list):
            yield from rows
