"""REST client for the Fenxiang Xiaoke OpenAPI object query.

Query: ``POST /cgi/crm/v2/data/query`` (custom objects: ``/cgi/crm/custom/v2/data/query``)
with the body shape of source-systems.md section 1 - mixed casing on purpose
(``field_name``/``field_values`` in filters, ``fieldName``/``isAsc`` in orders).
HTTP is always 200; success is ``errorCode == 0``.

Paging is the *deep paging* method (offset paging stops at 10000): keep ``offset`` 0,
order by ``_id`` ascending and ask for ``_id GT <last id of the previous page>``; stop
on a short page. ``total`` is never used to decide anything.

Incremental: ``last_modified_time`` (epoch ms) is the replication key. A run filters
``last_modified_time GT <bookmark>`` *and* keysets on ``_id``, so records do not arrive
sorted by the replication key: the stream is declared unsorted, singer-sdk keeps the
maximum seen in a progress marker and promotes it to the bookmark only when the stream
completes. The bookmark is capped by a *signpost* (sync start minus
``bookmark_lag_seconds``) so records modified while a run was paging (already passed
by the ``_id`` keyset) are picked up by the next run instead of being skipped.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator

from connectors._singer_common import (
    HubRESTStream,
    SourceConfigError,
    SourceQuotaError,
    TokenInvalidError,
    is_int_value,
    iso_to_epoch_ms,
    response_json,
    scrub,
)
from connectors.tap_fxiaoke.auth import (
    BAD_APP_SECRET,
    NO_AUTH,
    OK,
    QUOTA_CODES,
    RETRY_CODES,
    SECRET_KEYS,
    TOKEN_INVALID,
    FxiaokeAuthenticator,
    error_code,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

MAX_PAGE_SIZE = 100
QUERY_PATH = "/cgi/crm/v2/data/query"
CUSTOM_QUERY_PATH = "/cgi/crm/custom/v2/data/query"


def _data_list(response: requests.Response) -> list[dict[str, t.Any]]:
    payload = response_json(response)
    data = payload.get("data") if isinstance(payload, dict) else None
    rows = data.get("dataList") if isinstance(data, dict) else None
    return rows if isinstance(rows, list) else []


class IdKeysetPaginator(BaseAPIPaginator[t.Optional[str]]):  # noqa: UP007
    """Deep paging: the page token is the last ``_id`` seen; a short page ends it."""

    def __init__(self, page_size: int) -> None:
        super().__init__(None)
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        return len(_data_list(response)) >= self.page_size

    def get_next(self, response: requests.Response) -> str | None:
        rows = _data_list(response)
        last_id = rows[-1].get("_id") if rows and isinstance(rows[-1], dict) else None
        return str(last_id) if last_id not in (None, "") else None


class FxiaokeStream(HubRESTStream):
    """One CRM object, read with the object query endpoint."""

    http_method = "POST"
    path = QUERY_PATH
    primary_keys: t.ClassVar[list[str]] = ["_id"]
    replication_key = "last_modified_time"
    is_sorted = False  # keyset on _id, not on the replication key
    secret_config_keys = SECRET_KEYS

    #: Whether ``start_date`` limits this object (reference data such as employees
    #: is always read whole on the first run).
    apply_start_date: bool = True

    @property
    def object_api_name(self) -> str:
        """The ``dataObjectApiName``: the stream name."""
        return self.name

    @cached_property
    def authenticator(self) -> FxiaokeAuthenticator:
        return FxiaokeAuthenticator(
            self._tap.token_cache,  # type: ignore[attr-defined]
            str(self.config.get("current_open_user_id") or ""),
        )

    @property
    def page_size(self) -> int:
        size = int(self.config.get("page_size") or MAX_PAGE_SIZE)
        return max(1, min(size, MAX_PAGE_SIZE))

    def get_new_paginator(self) -> IdKeysetPaginator:
        return IdKeysetPaginator(self.page_size)

    # ------------------------------------------------------------------ bookmarks

    def _start_date_ms(self) -> int | None:
        value = self.config.get("start_date")
        if not value:
            return None
        try:
            return iso_to_epoch_ms(str(value))
        except ValueError:
            msg = "start_date in the tap config is not an ISO date or date-time."
            raise SourceConfigError(msg) from None

    def compare_start_date(self, value: t.Any, start_date_value: str) -> t.Any:  # noqa: ANN401
        """Bookmark (epoch ms) vs ``start_date`` (ISO): the later one wins."""
        if not self.apply_start_date or not is_int_value(value):
            return value
        start_ms = self._start_date_ms()
        return max(value, start_ms) if start_ms is not None else value

    def starting_bookmark_ms(self, context: Context | None) -> int | None:
        """The ``last_modified_time`` lower bound of this run, or None (full read)."""
        value = self.get_starting_replication_key_value(context)
        if value is None:
            return None
        if is_int_value(value):
            return int(value)
        if isinstance(value, str):  # start_date, when there is no bookmark yet
            if not self.apply_start_date:
                return None
            return self._start_date_ms()
        self.logger.warning("%s: ignoring unusable bookmark %r", self.name, value)
        return None

    def get_replication_key_signpost(self, context: Context | None = None) -> int | None:  # noqa: ARG002
        lag_seconds = self.config.get("bookmark_lag_seconds")
        lag_ms = int(300 if lag_seconds is None else lag_seconds) * 1000
        return int(self._tap.initialized_at) - lag_ms

    def is_valid_bookmark_value(self, value: t.Any) -> bool:  # noqa: ANN401, PLR6301
        return is_int_value(value)

    # ------------------------------------------------------------------ requests

    def prepare_request_payload(
        self,
        context: Context | None,
        next_page_token: str | None,
    ) -> dict[str, t.Any]:
        filters: list[dict[str, t.Any]] = []
        since = self.starting_bookmark_ms(context)
        if since is not None:
            filters.append(
                {
                    "field_name": "last_modified_time",
                    "operator": "GT",
                    "field_values": [str(since)],
                }
            )
        if next_page_token:
            filters.append(
                {"field_name": "_id", "operator": "GT", "field_values": [next_page_token]}
            )
        # corpAccessToken / corpId / currentOpenUserId are added by the authenticator.
        return {
            "data": {
                "dataObjectApiName": self.object_api_name,
                "find_explicit_total_num": True,
                "search_query_info": {
                    "limit": self.page_size,
                    "offset": 0,
                    "filters": filters,
                    "orders": [{"fieldName": "_id", "isAsc": True}],
                },
            }
        }

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from _data_list(response)

    def check_payload(self, payload: t.Any, response: requests.Response) -> None:  # noqa: ANN401
        code = error_code(payload)
        if code == OK:
            return
        message = scrub(str((payload or {}).get("errorMessage", "")), self.secrets)
        detail = f"{self.name}: CRM errorCode {code} ({message})"
        if code == TOKEN_INVALID:
            raise TokenInvalidError(detail)
        if code in RETRY_CODES:
            raise RetriableAPIError(detail, response)
        if code in QUOTA_CODES:
            msg = f"{detail}: the CRM API quota is exhausted; stopping."
            raise SourceQuotaError(msg)
        if code == BAD_APP_SECRET:
            msg = f"{detail}: check app_id, app_secret and permanent_code."
            raise SourceConfigError(msg)
        if code == NO_AUTH:
            msg = f"{detail}: check current_open_user_id and the app's authorization."
            raise SourceConfigError(msg)
        raise FatalAPIError(detail)


class FxiaokeCustomObjectStream(FxiaokeStream):
    """A custom object (api name ending in ``__c``): custom query endpoint."""

    path = CUSTOM_QUERY_PATH
