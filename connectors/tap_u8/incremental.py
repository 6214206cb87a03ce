"""Incremental U8 reads: a date window, header fingerprints, and quarantine for bad documents.

The U8 OpenAPI lists documents by *document date* (``date_begin`` / ``date_end``) and the
inventory by modified date (``modifydate_begin`` / ``modifydate_end``); nothing lists "what
changed since". So a windowed stream:

1. lists from its bookmark (the latest day seen in the last complete pass) minus
   ``lookback_days`` (default 7): a document entered late, or edited within the lookback, is
   listed again;
2. keeps, in its Singer state, a fingerprint (a 64-bit content hash) of every list header it
   has emitted within the lookback window - bounded by the window, not by the table, and held
   and stored compactly (:mod:`connectors.tap_u8.fingerprints`: 16 bytes a header);
3. emits (and, for documents, fetches with one ``get`` call) only headers that are new or
   whose fingerprint changed. An unchanged document costs no ``get`` and no landing work.

Stream state (singer-sdk's ``bookmarks[<stream>]``)::

    {"replication_key": "date", "replication_key_value": "2026-11-20",
     "fingerprints": {"2026-11-18": "<base64>"}, "quarantine": {"SO9": "2026-11-18"}}

(a state written before the compact form holds ``"seen": {"SO1": ["2026-11-18", "3f2a..."]}``
instead; it is read, and written back in the compact form).

STATE is emitted after a page, once its records are out - at most one a
``state_interval_seconds`` (default 1 s; 0: after every page) and always after the last page -
with a ``cursor`` (the list filters and the last page done): a killed sync resumes at that page
(listed again, in case deletions shifted the pages; its documents already emitted are skipped by
fingerprint; documents emitted after that STATE are not in it and are fetched again). The bookmark itself
moves only at the end of a complete pass (list order is by key, not date, so a partial pass
proves nothing about the latest day).

A document whose ``get`` keeps failing (an unknown errcode, a truncated or invalid body after
the retries, a listed document the ``get`` says does not exist) is *quarantined*: it goes to
the reject stream (:mod:`connectors.kit.rejects`) with its reason, its key is kept in state and fetched
again next run, and the sync goes on. Bad credentials and exhausted quotas still stop the
source at once, and so does a run where more than ``max_quarantined`` documents of one stream
fail (that is an outage, not a bad document).
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from datetime import date, timedelta

from connectors.tap_u8.fingerprints import Fingerprints, key_hash, packed

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DEFAULT_LOOKBACK_DAYS = 7
#: Single-document calls in flight at once (config ``lines_concurrency``).
DEFAULT_LINES_CONCURRENCY = 4
DEFAULT_MAX_QUARANTINED = 100


def as_day(value: t.Any) -> str | None:
    """The ``YYYY-MM-DD`` day of a date or ``YYYY-MM-DD HH:MM:SS`` time; None when malformed."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def days_before(day: str, days: int) -> str:
    """``day`` minus ``days`` days, as ``YYYY-MM-DD``."""
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def fingerprint(header: t.Mapping[str, t.Any]) -> int:
    """A short, stable hash of a list header (64 bits: ample for one stream's window; the
    number the 16 hex digits of the former stored form read as)."""
    text = json.dumps(header, sort_keys=True, ensure_ascii=False, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class Window:
    """The incremental bookkeeping of one windowed stream for one run (see module docstring).

    ``state`` is the stream's singer-sdk state dict. The fingerprints and the cursor live in the
    window and reach ``state`` at :meth:`store` (the stream calls it before each STATE it writes,
    and :meth:`finish` does), together: whatever STATE the tap writes - singer-sdk's own every
    10,000 records included - carries a cursor and the fingerprints of exactly the pages before
    it. The quarantine is updated in ``state`` in place.
    """

    def __init__(self, state: dict, field: str, lookback_days: int) -> None:
        self.state = state
        self.field = field
        self.lookback_days = max(0, lookback_days)
        bookmark = state.get("replication_key_value") if state.get("replication_key") == field else None
        self.bookmark = as_day(bookmark)
        self.latest = self.bookmark  # the latest day listed so far (this run or before)
        self.fingerprints = Fingerprints.load(state.get("fingerprints"), state.get("seen"))
        self.quarantine: dict[str, str] = state.setdefault("quarantine", {})
        self._undated_listed: set[int] = set()
        self._cursor = state.get("cursor")
        #: keys quarantined before this run and not yet emitted or quarantined again in it: what
        #: :meth:`retry_pending` fetches by key (a set of every key a run emitted was ~90 MB
        #: for one 1.1M-document stream at 100k customers)
        self._retry: set[str] = set(self.quarantine)
        self.skipped = 0
        self.store()  # a state in the former form is written back in this one

    @property
    def begin(self) -> str | None:
        """The first day to list: the bookmark minus the lookback; None lists everything."""
        return days_before(self.bookmark, self.lookback_days) if self.bookmark else None

    def mark(self, header: t.Mapping[str, t.Any]) -> tuple[str | None, int]:
        """A header's day and its :func:`~connectors.tap_u8.fingerprints.packed` fingerprint:
        what :meth:`emitted` keeps and :meth:`is_unchanged` compares."""
        day = as_day(header.get(self.field))
        return day, packed(day, fingerprint(header))

    def looks_unchanged(self, key: str | None, mark: tuple[str | None, int]) -> bool:
        """:meth:`is_unchanged`'s verdict on the state as it is now, with no bookkeeping.

        A document stream guesses with it while earlier pages are still being emitted, to start
        fetching ahead; the verdict that counts is :meth:`is_unchanged`'s, taken in list order."""
        if key is None:
            return False
        day, begin = mark[0], self.begin
        if key in self.quarantine:
            return False
        return bool(begin and day and day < begin) or self.fingerprints.get(key_hash(key)) == mark[1]

    def is_unchanged(
        self, key: str | None, header: t.Mapping[str, t.Any], mark: tuple[str | None, int] | None = None
    ) -> tuple[bool, tuple[str | None, int]]:
        """Whether ``header`` needs nothing: emitted before as is, or dated before the window
        (a server that ignores the date filter still costs no ``get``); also its ``(day, hash)``
        (``mark``: the one :meth:`mark` gave for this header, not computed again)."""
        mark = self.mark(header) if mark is None else mark
        day = mark[0]
        if day and (self.latest is None or day > self.latest):
            self.latest = day
        if key is None:
            return False, mark
        if day is None:
            self._undated_listed.add(key_hash(key))
        unchanged = self.looks_unchanged(key, mark)
        self.skipped += unchanged
        return unchanged, mark

    def emitted(self, key: str | None, mark: tuple[str | None, int]) -> None:
        """Record that the document with this ``(day, hash)`` was emitted."""
        if key is not None:
            self.fingerprints.put(key_hash(key), mark[1])
            self.quarantine.pop(key, None)
            self._retry.discard(key)

    def quarantined(self, key: str, day: str | None) -> None:
        """Record a document set aside: it is fetched again next run."""
        self.fingerprints.drop(key_hash(key))
        self.quarantine[key] = day or ""
        self._retry.discard(key)

    def retry_pending(self) -> list[str]:
        """Keys quarantined before this run that it has neither emitted nor set aside again."""
        return [k for k in self.quarantine if k in self._retry]

    def resume_page(self, filters: dict[str, t.Any]) -> int:
        """The page to start listing at: the last page done by an interrupted pass with the same
        filters (listed again: deletions may have shifted the pages), else 1."""
        cursor = self._cursor
        if not isinstance(cursor, dict) or cursor.get("filters") != filters:
            return 1
        latest = as_day(cursor.get("latest"))
        if latest and (self.latest is None or latest > self.latest):
            self.latest = latest
        page = cursor.get("page")
        return page if isinstance(page, int) and page >= 1 else 1

    def page_done(self, filters: dict[str, t.Any], page: int) -> None:
        """Record the progress of this pass (carried by the next STATE, see :meth:`store`)."""
        self._cursor = {"filters": filters, "page": page, "latest": self.latest}

    def store(self) -> None:
        """Put the cursor and the fingerprints into ``state`` (before a STATE is written)."""
        self.state.pop("seen", None)
        self.state["fingerprints"] = self.fingerprints.dump()
        if self._cursor is None:
            self.state.pop("cursor", None)
        else:
            self.state["cursor"] = self._cursor

    def prune(self) -> None:
        """Forget fingerprints of days before the window the *next* run will list."""
        if self.latest is not None:
            self.fingerprints.prune(days_before(self.latest, self.lookback_days))

    def finish(self) -> None:
        """End of a complete pass: advance the bookmark, drop what the next run will not list."""
        self.prune()
        self._cursor = None
        for key in self.fingerprints.undated():
            if key not in self._undated_listed:
                self.fingerprints.drop(key)
        if self.latest is not None:
            self.state["replication_key"] = self.field
            self.state["replication_key_value"] = self.latest
        self.store()


def list_window_filters(stream: t.Any, window: Window, context: Context | None) -> dict[str, t.Any]:
    """The list call's window filters: the later of the configured begin and the window's."""
    begin_param, end_param = stream.window_params
    params: dict[str, t.Any] = {}
    begin = window.begin
    configured = stream.config.get("date_begin") if stream.window_field == "date" else None
    if configured and (begin is None or str(configured) > begin):
        begin = str(configured)
    if begin:
        params[begin_param] = begin
    end = stream.config.get("date_end") if stream.window_field == "date" else None
    if end:
        params[end_param] = end
    return params
