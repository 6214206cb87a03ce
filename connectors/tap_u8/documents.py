"""Windowed U8 streams: document lists (and the inventory) read incrementally.

See :mod:`connectors.tap_u8.incremental` for the window, the fingerprints and the quarantine.
:class:`U8WindowedStream` lists a window and emits new or changed headers;
:class:`U8DocumentStream` replaces each of those headers by the full document from
``GET /api/{get name}/get?...&id=<key>`` (the only way to a document's ``entry`` lines).
"""

from __future__ import annotations

import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from connectors.kit.errors import SourceConfigError, SourceQuotaError, scrub
from connectors.kit.rejects import RejectWriter
from connectors.tap_u8.client import U8PagePaginator, U8Stream, _as_int
from connectors.tap_u8.incremental import (
    DEFAULT_LINES_CONCURRENCY,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_QUARANTINED,
    Window,
    as_day,
    list_window_filters,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context



#: A STATE carries every fingerprint of the window (~22 bytes each, base64); at 100k customers
#: a first pass holds ~300k of them (~7 MB a STATE), and writing that once a second would cost
#: the tap and the hub more than the records do. So the interval between STATEs grows by one
#: ``state_interval_seconds`` for every this many fingerprints held (~1 MB of state): a killed
#: sync fetches again at most that many seconds of documents.
STATE_FINGERPRINTS_PER_S = 50_000


class ListPage(t.NamedTuple):
    """One ``batch_get`` page: its index and its rows."""

    index: int
    rows: list


class DocumentUnreadable(Exception):
    """One document cannot be read; the message is the reason recorded with it."""


class DocumentMissing(DocumentUnreadable):
    """The single-document call says the document does not exist (errcode 20002)."""


class U8WindowedStream(U8Stream):
    """A list resource read by a date window, emitting only new or changed headers."""

    bookmarks = "stream"  # the window's business (:meth:`Window.finish`), not singer-sdk's
    #: The list call's begin / end parameters of the window.
    window_params: t.ClassVar[tuple[str, str]] = ("date_begin", "date_end")
    #: Header field holding the record's key (fingerprints and ``get`` ids).
    id_field = "code"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._window: Window | None = None
        self._start_page = 1
        self._pages_seen = 0

    @property
    def window_field(self) -> str:
        """The header field the window is on: the replication key (``date`` by default)."""
        return self.replication_key or "date"

    def get_new_paginator(self) -> U8PagePaginator:
        return U8PagePaginator(self, start=self._start_page)

    def parse_response(self, response: requests.Response) -> t.Iterable[ListPage]:
        """One :class:`ListPage` per response (the page boundary is where STATE goes)."""
        rows = list(super().parse_response(response))
        if rows:
            self._pages_seen += 1
            payload = self.response_json(response)
            index = _as_int(payload.get("page_index")) or self._start_page + self._pages_seen - 1
            yield ListPage(index, rows)

    def list_filters(self, context: Context | None) -> dict[str, t.Any]:
        """What a cursor must match to be resumed: the window filters and the page size."""
        assert self._window is not None
        return {**list_window_filters(self, self._window, context), "rows_per_page": self.rows_per_page}

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        for name in self.window_params:
            params.pop(name, None)  # the window decides (it honours date_begin / date_end)
        if self._window is not None:
            params.update(list_window_filters(self, self._window, context))
        return params

    def _key(self, header: t.Any) -> str | None:
        value = header.get(self.id_field) if isinstance(header, dict) else None
        return None if value in (None, "") else str(value)

    @property
    def lists_ahead(self) -> bool:
        """Whether the next page is listed (and its work started, :meth:`start`) before this
        page's records are emitted; a plain list has nothing to start ahead."""
        return False

    def start(self, headers: list[dict | None], context: Context | None) -> list[t.Any]:
        """Work started ahead for a page's headers that look new or changed (``None``: looks
        unchanged); one handle per header for :meth:`result_of`. Here: none."""
        return [None] * len(headers)

    def result_of(self, header: t.Any, handle: t.Any, context: Context | None) -> t.Any:
        """The record for a new or changed header, or the :class:`DocumentUnreadable` reason;
        here the header itself."""
        return header

    def discard(self, handle: t.Any) -> None:
        """Work started for a header that turned out unchanged (nothing here)."""

    def _listed(self, window: Window, page: ListPage, context: Context | None) -> tuple[ListPage, list, list]:
        """A listed page: its ``(key, mark, header)`` rows and the work started for them."""
        rows = [(self._key(h), window.mark(h) if isinstance(h, dict) else None, h) for h in page.rows]
        guesses = [h if m is None or not window.looks_unchanged(k, m) else None for k, m, h in rows]
        return page, rows, self.start(guesses, context)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        lookback = self.config.get("lookback_days")
        window = Window(
            self.get_context_state(context),
            self.window_field,
            DEFAULT_LOOKBACK_DAYS if lookback is None else int(lookback),
        )
        self._window = window
        filters = self.list_filters(context)
        self._start_page, self._pages_seen = window.resume_page(filters), 0
        failures = 0
        self.logger.info("%s: listing from %s (bookmark %s), page %d.", self.name, window.begin or "the start",
                         window.bookmark, self._start_page)
        interval = self.state_interval_seconds
        last_state, unsaved = time.monotonic(), False

        def emit(listed: tuple[ListPage, list, list]) -> t.Iterator[dict]:
            # Every verdict and every bookkeeping step in list order, as if nothing had been
            # started ahead: a guess that no longer holds costs a call, never a record or a mark.
            nonlocal failures
            page, rows, handles = listed
            todo = []
            for (key, mark, header), handle in zip(rows, handles, strict=True):
                unchanged, mark = window.is_unchanged(key, header, mark) if isinstance(header, dict) else (False, None)
                if unchanged:
                    self.discard(handle)
                else:
                    todo.append((key, mark, header, handle))
            for key, mark, header, handle in todo:
                result = self.result_of(header, handle, context)
                if isinstance(result, DocumentUnreadable):
                    failures += 1
                    self._quarantine(window, key, header, str(result), failures)
                    continue
                yield result
                if mark is not None:
                    window.emitted(key, mark)
            window.prune()
            window.page_done(filters, page.index)

        ahead = None  # a page listed, its work started, its records not yet emitted
        for page in self.request_records(context):
            listed = self._listed(window, page, context)
            if not self.lists_ahead:
                ahead, listed = listed, None
            if ahead is not None:
                yield from emit(ahead)
                unsaved = True
                if time.monotonic() - last_state >= interval * (1 + len(window.fingerprints) // STATE_FINGERPRINTS_PER_S):
                    self.write_window_state(window)
                    last_state, unsaved = time.monotonic(), False
            ahead = listed
        if ahead is not None:
            yield from emit(ahead)
            unsaved = True
        if unsaved:
            self.write_window_state(window)  # the last page done, before quarantine retries and the bookmark
        yield from self._retry_quarantined(window, context)
        window.finish()
        self.logger.info("%s: %d unchanged records skipped.", self.name, window.skipped)
        self._window = None

    def write_window_state(self, window: Window) -> None:
        """A STATE now, carrying the window's cursor and fingerprints: :meth:`Window.store` and
        the checkpoint in one step, so no STATE this stream writes can leave them out (or carry
        those of another moment than its records')."""
        window.store()
        self.write_checkpoint()

    def _retry_quarantined(self, window: Window, context: Context | None) -> t.Iterable[dict]:
        """Documents quarantined before and not listed in this run's window: nothing by default."""
        return ()

    def _quarantine(self, window: Window, key: str | None, header: t.Any, reason: str, failures: int) -> None:
        self.logger.warning(
            "U8 document quarantined: %s",
            {"stream": self.name, "key": key, "reason": reason},
        )
        self.reject_writer.write(self.name, key, reason, header)
        if key is not None:
            window.quarantined(key, as_day(header.get(self.window_field)) if isinstance(header, dict) else None)
        limit = self.config.get("max_quarantined")
        limit = DEFAULT_MAX_QUARANTINED if limit is None else int(limit)
        if failures > limit:
            msg = (
                f"{self.name}: more than {limit} documents could not be read in this run "
                f"(last: {reason}); stopping - this looks like an outage, not a bad document."
            )
            raise FatalAPIError(msg)

    @property
    def reject_writer(self) -> RejectWriter:
        tap = self.hub_tap
        writer = getattr(tap, "reject_writer", None)
        if writer is None:
            writer = RejectWriter(tap)
            tap.reject_writer = writer  # one SCHEMA per tap run
        return writer


class U8DocumentStream(U8WindowedStream):
    """A document list whose lines (``entry``) come from the single-document call.

    ``batch_get`` returns headers only; with ``fetch_lines`` (default on) every new or changed
    header is replaced by the full document from ``GET /api/{get name}/get?...&id=<key>``.
    The get name defaults to the real OpenAPI's singular resource (``saleorder`` for
    ``saleorderlist``); override per resource with the ``get_resources`` config map.
    """

    @property
    def get_name(self) -> str:
        overrides = self.config.get("get_resources") or {}
        if self.resource in overrides:
            return str(overrides[self.resource])
        return self.resource.removesuffix("list") or self.resource

    #: The fetch threads of the pass under way (:meth:`get_records`); None outside one.
    _pool: ThreadPoolExecutor | None = None

    @cached_property
    def fetches_lines(self) -> bool:
        return self.config.get("fetch_lines") is not False

    def fetch_document(self, doc_id: t.Any, context: Context | None) -> dict:
        """The full document; raises :class:`DocumentUnreadable` when this one document fails."""
        try:
            payload = self.call_api(
                "GET",
                f"/api/{self.get_name}/get",
                params={**self.account_params(), "id": doc_id},
                context=context,
            )
        except (SourceConfigError, SourceQuotaError):
            raise  # the source as a whole is refused: stop
        except (FatalAPIError, RetriableAPIError) as exc:
            raise DocumentUnreadable(scrub(str(exc), self.secrets)[:500]) from None
        if not isinstance(payload, dict) or self.no_data(payload):
            msg = f"listed by batch_get but /api/{self.get_name}/get answers no data ({self.error_table.code_of(payload)})"
            raise DocumentMissing(msg)
        for key in (self.get_name, self.resource):
            if isinstance(payload.get(key), dict):
                return payload[key]
        candidates = [v for k, v in payload.items() if k not in {"errcode", "errmsg"} and isinstance(v, dict)]
        if len(candidates) == 1:
            return candidates[0]
        msg = f"/api/{self.get_name}/get returned no document object"
        raise DocumentUnreadable(msg)

    def _full_document(self, header: t.Any, context: Context | None) -> t.Any:
        doc_id = self._key(header)
        if doc_id is None:
            self.logger.warning("%s: header without %s, emitted without lines: %r", self.name, self.id_field, header)
            return header
        try:
            return self.fetch_document(doc_id, context)
        except DocumentUnreadable as exc:
            return exc

    @property
    def lines_concurrency(self) -> int:
        """How many single-document calls run at once (config ``lines_concurrency``, default 4;
        1: one at a time)."""
        return max(1, int(self.config.get("lines_concurrency") or DEFAULT_LINES_CONCURRENCY))

    @property
    def lists_ahead(self) -> bool:
        """With lines fetched, the next page is listed while this page's documents are fetched."""
        return self.fetches_lines

    def start(self, headers: list[dict | None], context: Context | None) -> list[t.Any]:
        """The page's ``get`` calls queued on the pass's fetch threads: headers that look new
        or changed, cut into ``lines_concurrency`` runs of consecutive documents.

        At most ``lines_concurrency`` calls run at once (the pool's size); a thread takes a run
        and fetches it in list order (one hand-over per run, not per document: waking the main
        thread per document was a visible share of the tap's CPU). The next page is listed and
        queued before this one is emitted, so no thread waits for a page boundary. Every call
        goes through the tap's one pacer: its budgets count all threads together."""
        pool = self._pool
        wanted = [i for i, h in enumerate(headers) if h is not None]
        if not self.fetches_lines or pool is None or not wanted:
            return [None] * len(headers)
        size = -(-len(wanted) // self.lines_concurrency)
        handles: list[t.Any] = [None] * len(headers)
        for first in range(0, len(wanted), size):
            run = wanted[first:first + size]
            future = pool.submit(self._fetch_run, [headers[i] for i in run], context)
            for position, i in enumerate(run):
                handles[i] = (future, position)
        return handles

    def _fetch_run(self, headers: list[dict], context: Context | None) -> list[t.Any]:
        return [self._full_document(h, context) for h in headers]

    def result_of(self, header: t.Any, handle: t.Any, context: Context | None) -> t.Any:
        """The fetched document (waiting for its run if need be), or its reason; a header
        nothing was started for (its guess was "unchanged" but no longer is) is fetched now."""
        if handle is not None:
            future, position = handle
            return future.result()[position]  # an error that stops the source is raised here
        if not self.fetches_lines:
            return header
        return self._full_document(header, context)

    def discard(self, handle: t.Any) -> None:
        """A fetch for a header found unchanged after all: its result is ignored (the rare
        header whose state an earlier page of the same pass changed: one call too many)."""

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The windowed pass, with one pool of ``lines_concurrency`` fetch threads for all of it."""
        if not self.fetches_lines:
            yield from super().get_records(context)
            return
        pool = ThreadPoolExecutor(max_workers=self.lines_concurrency, thread_name_prefix=f"u8-{self.name}")
        self._pool = pool
        try:
            yield from super().get_records(context)
        finally:
            self._pool = None
            # a pass that stops (an error, a closed generator) leaves no queued call behind
            pool.shutdown(wait=True, cancel_futures=True)

    def _retry_quarantined(self, window: Window, context: Context | None) -> t.Iterable[dict]:
        """Fetch again, by key, documents quarantined earlier that this window did not list."""
        if not self.fetches_lines:
            return
        pending = window.retry_pending()
        failures = 0
        for key in pending:
            day = window.quarantine.get(key) or None
            try:
                document = self.fetch_document(key, context)
            except DocumentMissing:
                # Quarantined earlier, no longer listed and now unknown: deleted at the source.
                self.logger.info("%s: quarantined document %s no longer exists; forgotten.", self.name, key)
                window.quarantine.pop(key, None)
                continue
            except DocumentUnreadable as exc:
                failures += 1
                self._quarantine(window, key, {self.id_field: key, self.window_field: day}, str(exc), failures)
                continue
            yield document
            window.quarantine.pop(key, None)
        if pending:
            self.write_window_state(window)
