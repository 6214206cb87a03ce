"""The Python tap-finance needs beyond its catalogue: ``credit_rating``'s resumable pass.

Everything else - path, keys, paging, where the items are, the schema, errors and the token
call - is data (``streams.yaml``, ``schemas/``, ``vendor.yaml``).
"""

from __future__ import annotations

import typing as t
from datetime import datetime

from singer_sdk.helpers.jsonpath import extract_jsonpath

from connectors.kit.catalogue import CatalogueStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Key of the open pass in the stream's state (absent once the pass is complete).
PASS_KEY = "open_pass"


def _later(a: str, b: str) -> bool:
    """Whether ISO date/time ``a`` is after ``b`` (naive vs aware compared as naive)."""
    x, y = _parse_iso(a), _parse_iso(b)
    if x is None or y is None:
        return False
    if x.tzinfo is None or y.tzinfo is None:
        x, y = x.replace(tzinfo=None), y.replace(tzinfo=None)
    return x > y


def _parse_iso(value: t.Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


class RatingPassStream(CatalogueStream):
    """Incremental on an ISO date, in resumable passes (``kind: rating_pass``).

    The bookmark is the greatest replication value seen; the next run asks
    ``updated_since=<bookmark>``. The API's filter is inclusive (a bare date cannot tell earlier
    from later ratings of the same day), so the last day's ratings come again - harmless, the hub
    dedupes by key and content. Items are not assumed to be sorted, so the bookmark moves when a
    pass completes; but the pass is resumable: after every full page the tap emits STATE with the
    open pass ``{since, page, max_value}``, and an interrupted run continues at the next page with
    the same ``updated_since`` (the hub's loader commits each page with its state).
    """

    _since: str | None = None

    def is_valid_bookmark_value(self, value: t.Any) -> bool:
        return _parse_iso(value) is not None

    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The later of the bookmark and ``start_date`` (both ISO)."""
        bookmark, start = _parse_iso(value), _parse_iso(start_date_value)
        if bookmark is None:
            return start_date_value
        if start is None:
            return value
        if bookmark.tzinfo is None or start.tzinfo is None:
            bookmark, start = bookmark.replace(tzinfo=None), start.replace(tzinfo=None)
        return value if bookmark >= start else start_date_value

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        since = self._since if self._since is not None else self.get_starting_replication_key_value(context)
        if since:
            params["updated_since"] = since
        return params

    def _open_pass(self, state: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        saved = state.get(PASS_KEY)
        if isinstance(saved, dict) and isinstance(saved.get("page"), int) and saved["page"] > 1:
            self.logger.info("%s: resuming an interrupted pass at page %s.", self.name, saved["page"])
            max_value = saved.get("max_value")
            return {
                "since": saved.get("since") if isinstance(saved.get("since"), str) else None,
                "page": saved["page"],
                "max_value": max_value if _parse_iso(max_value) is not None else None,
            }
        since = self.get_starting_replication_key_value(context)
        return {"since": since if isinstance(since, str) else None, "page": 1, "max_value": None}

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Walk the pages of the open pass, checkpointing (STATE) after every full page."""
        state = self.get_context_state(context)
        current = self._open_pass(state, context)
        key = self.replication_key
        self._since = current["since"] or ""
        try:
            while True:
                payload = self.call_api(
                    "GET", self.path, params=self.get_url_params(context, current["page"]), context=context
                )
                items = list(extract_jsonpath(self.records_jsonpath, input=payload))
                for item in items:
                    value = item.get(key) if isinstance(item, dict) else None
                    if _parse_iso(value) is not None and (
                        current["max_value"] is None or _later(value, current["max_value"])
                    ):
                        current["max_value"] = value
                    yield item
                if len(items) < self.page_size:
                    break
                current["page"] += 1
                state[PASS_KEY] = dict(current)  # reached once the page's items are written
                self.checkpoint()
        finally:
            self._since = None
        state.pop(PASS_KEY, None)
        seen, old = current["max_value"], state.get("replication_key_value")
        if seen is not None and (_parse_iso(old) is None or _later(seen, old)):
            state["replication_key"] = key
            state["replication_key_value"] = seen
