"""REST client for the Yonyou U8 OpenAPI list / single-document endpoints.

List: ``GET /api/{resource}/batch_get?from_account=&to_account=&app_key=&token=
&ds_sequence=&page_index=&rows_per_page=[&filters]`` ->
``{"errcode":"0","page_index":"1","rows_per_page":"100","row_count":"..",
"page_count":"..","<resource>":[...]}``. Page fields are *strings*; the stream walks
``page_index`` 1..``page_count``. ``errcode "20002"`` means "no data": an empty page,
not an error. ``batch_get`` returns document *headers* only; document streams fetch
each document with ``GET /api/{name}/get?...&id=<key>`` (see :mod:`.streams`).

Replication: this base class is FULL_TABLE (the OpenAPI has no modified-since filter for most
resources); document lists and the inventory read a date window instead (:mod:`.documents`).
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import PageNumberPaginator

from connectors._singer_common import (
    HubRESTStream,
    SourceConfigError,
    TokenInvalidError,
    response_json,
    scrub,
)
from connectors.tap_u8.auth import OK, SECRET_KEYS, U8Authenticator, errcode, retry_errcodes

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

NO_DATA = "20002"
BAD_CREDENTIALS = "40001"


def _as_int(value: t.Any) -> int | None:  # noqa: ANN401
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class U8PagePaginator(PageNumberPaginator):
    """``page_index`` 1..``page_count`` (both strings in the response).

    When ``page_count`` is missing or unreadable, a short page ends the walk.
    """

    def __init__(self, resource: str, rows_per_page: int, start: int = 1) -> None:
        super().__init__(start)
        self.resource = resource
        self.rows_per_page = rows_per_page

    def has_more(self, response: requests.Response) -> bool:
        payload = response_json(response)
        if not isinstance(payload, dict) or errcode(payload) == NO_DATA:
            return False
        page_index = _as_int(payload.get("page_index")) or self.current_value
        page_count = _as_int(payload.get("page_count"))
        if page_count is not None:
            return page_index < page_count
        rows = payload.get(self.resource)
        return isinstance(rows, list) and len(rows) >= self.rows_per_page


class U8Stream(HubRESTStream):
    """One U8 OpenAPI list resource (the stream name is the resource name)."""

    primary_keys: t.ClassVar[list[str]] = ["code"]
    replication_key = None
    secret_config_keys = SECRET_KEYS

    #: Optional filters (query parameter -> config key) this resource understands.
    config_filters: t.ClassVar[dict[str, str]] = {}

    @property
    def resource(self) -> str:
        return self.name

    @property
    def path(self) -> str:  # type: ignore[override]
        return f"/api/{self.resource}/batch_get"

    @cached_property
    def authenticator(self) -> U8Authenticator:
        return U8Authenticator(self._tap.token_cache)  # type: ignore[attr-defined]

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
        return U8PagePaginator(self.resource, self.rows_per_page)

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        params = {
            **self.account_params(),
            "page_index": next_page_token or 1,
            "rows_per_page": self.rows_per_page,
        }
        for param, config_key in self.config_filters.items():
            value = self.config.get(config_key)
            if value not in (None, ""):
                params[param] = value
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        payload = response_json(response)
        if errcode(payload) == NO_DATA:
            return
        rows = payload.get(self.resource) if isinstance(payload, dict) else None
        if isinstance(rows, list):
            yield from rows

    def check_payload(self, payload: t.Any, response: requests.Response) -> None:  # noqa: ANN401
        code = errcode(payload)
        if code in {OK, NO_DATA}:
            return
        message = scrub(str((payload or {}).get("errmsg", "")), self.secrets)
        detail = f"{self.name}: U8 errcode {code} ({message})"
        token_codes = {str(c) for c in (self.config.get("token_errcodes") or ["30001"])}
        if code in token_codes:
            raise TokenInvalidError(detail)
        if code in retry_errcodes(self.config):
            raise RetriableAPIError(detail, response)
        if code == BAD_CREDENTIALS:
            msg = f"{detail}: check from_account, to_account and app_key."
            raise SourceConfigError(msg)
        raise FatalAPIError(detail)
