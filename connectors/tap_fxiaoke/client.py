"""The Python tap-fxiaoke needs beyond its catalogue: the object query in resumable passes.

Query: ``POST /cgi/crm/v2/data/query`` (custom objects: ``/cgi/crm/custom/v2/data/query``)
with the body shape of source-systems.md section 1 - mixed casing on purpose
(``field_name``/``field_values`` in filters, ``fieldName``/``isAsc`` in orders).
HTTP is always 200; success is ``errorCode == 0``; every errorCode is classified by the
table in ``vendor.yaml`` (shared with the token call).

Paging is the *deep paging* method (offset paging stops at 10000, errorCode 10013): keep
``offset`` 0, order by ``_id`` ascending and ask for ``_id GT <last id of the previous
page>``; stop on a short page. ``total`` is never used to decide anything.

Incremental, resumable *passes*. A pass reads every record with ``last_modified_time GT
<since>`` (``since`` = the bookmark, or ``start_date``) in ``_id`` order. After each full
page the tap emits STATE with the open pass ``{since, after_id, max_value, signpost}``;
the hub's loader commits that page's records and the state together. A run that is
interrupted (rate limit, crash, deploy) resumes the pass right after ``after_id`` with the
same ``since`` - nothing is read twice and nothing is skipped, because the ``_id`` keyset
is a total order with no ties. When the pass ends the bookmark becomes the greatest
``last_modified_time`` seen, capped by the pass's *signpost* (its first start minus
``bookmark_lag_seconds``), so records modified while the pass was paging (already passed
by the keyset, or committed late) are read again by the next pass instead of being lost.
"""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.jsonpath import extract_jsonpath

from connectors.kit.catalogue import CatalogueStream
from connectors.kit.errors import SourceAPIError, SourceConfigError
from connectors.kit.schemas import is_int_value, iso_to_epoch_ms

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

MAX_PAGE_SIZE = 100
#: Key of the open pass in the stream's state (absent once the pass is complete).
PASS_KEY = "open_pass"


def _int_or_none(value: t.Any) -> int | None:
    return int(value) if is_int_value(value) else None


class FxiaokeStream(CatalogueStream):
    """One CRM object (``kind: query``), read with the object query in resumable passes."""

    #: Whether ``start_date`` limits this object (reference data such as employees
    #: is always read whole on the first run).
    apply_start_date: bool = True

    @property
    def object_api_name(self) -> str:
        """The ``dataObjectApiName``: the stream name."""
        return self.name

    @property
    def page_size(self) -> int:
        size = int(self.config.get("page_size") or MAX_PAGE_SIZE)
        return max(1, min(size, MAX_PAGE_SIZE))

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

    def compare_start_date(self, value: t.Any, start_date_value: str) -> t.Any:
        """Bookmark (epoch ms) vs ``start_date`` (ISO): the later one wins."""
        if not self.apply_start_date or not is_int_value(value):
            return value
        start_ms = self._start_date_ms()
        return max(value, start_ms) if start_ms is not None else value

    def starting_bookmark_ms(self, context: Context | None) -> int | None:
        """The ``last_modified_time`` lower bound of a new pass, or None (full read)."""
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

    def get_replication_key_signpost(self, context: Context | None = None) -> int | None:
        lag_seconds = self.config.get("bookmark_lag_seconds")
        lag_ms = int(300 if lag_seconds is None else lag_seconds) * 1000
        return int(self.hub_tap.initialized_at) - lag_ms

    def is_valid_bookmark_value(self, value: t.Any) -> bool:
        return is_int_value(value)

    def _open_pass(self, state: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        """The pass to continue (from state) or a new one starting at the bookmark."""
        saved = state.get(PASS_KEY)
        if isinstance(saved, dict) and isinstance(saved.get("after_id"), str) and saved["after_id"]:
            resumed = {
                "since": _int_or_none(saved.get("since")),
                "after_id": saved["after_id"],
                "max_value": _int_or_none(saved.get("max_value")),
                "signpost": _int_or_none(saved.get("signpost")),
            }
            self.logger.info(
                "%s: resuming an interrupted pass after _id %s.", self.name, resumed["after_id"]
            )
            return resumed
        if saved is not None:
            self.logger.warning("%s: ignoring an unreadable open pass in the state.", self.name)
        return {
            "since": self.starting_bookmark_ms(context),
            "after_id": None,
            "max_value": None,
            "signpost": self.get_replication_key_signpost(context),
        }

    def _close_pass(self, state: dict[str, t.Any], current: dict[str, t.Any]) -> None:
        """Promote the pass's greatest ``last_modified_time`` (capped) to the bookmark."""
        state.pop(PASS_KEY, None)
        seen, signpost = current["max_value"], current["signpost"]
        if seen is None:
            return
        value = min(seen, signpost) if signpost is not None else seen
        old = state.get("replication_key_value")
        if is_int_value(old):
            value = max(value, old)
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value

    # ------------------------------------------------------------------ requests

    def query_body(self, since: int | None, after_id: str | None) -> dict[str, t.Any]:
        """The query of one page (``corpAccessToken`` & co. are added by the authenticator)."""
        filters: list[dict[str, t.Any]] = []
        if since is not None:
            filters.append(
                {"field_name": "last_modified_time", "operator": "GT", "field_values": [str(since)]}
            )
        if after_id:
            filters.append({"field_name": "_id", "operator": "GT", "field_values": [after_id]})
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

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Page through the open pass, checkpointing (STATE) after every full page."""
        state = self.get_context_state(context)
        current = self._open_pass(state, context)
        while True:
            payload = self.call_api(
                "POST", self.path, json_body=self.query_body(current["since"], current["after_id"]),
                context=context,
            )
            rows = list(extract_jsonpath(self.records_jsonpath, input=payload))
            for row in rows:
                value = row.get(self.replication_key) if isinstance(row, dict) else None
                if is_int_value(value):
                    seen = current["max_value"]
                    current["max_value"] = value if seen is None else max(seen, value)
                elif value is not None:
                    self.logger.warning(
                        "%s: record has an unusable %s value; it is emitted but does not "
                        "advance the bookmark.", self.name, self.replication_key,
                    )
                yield row
            if len(rows) < self.page_size:
                break
            last_id = rows[-1].get("_id") if isinstance(rows[-1], dict) else None
            if last_id in (None, ""):
                msg = f"{self.name}: a full page ends with a record without _id; cannot page on."
                raise SourceAPIError(msg)
            current["after_id"] = str(last_id)
            # Reached only once the consumer has written every row of the page.
            state[PASS_KEY] = dict(current)
            self.checkpoint()
        self._close_pass(state, current)
