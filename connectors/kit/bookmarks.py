"""Bookmarks the hub's way, for any singer-sdk ``Stream`` (REST or not).

singer-sdk advances a stream's bookmark from every record it writes and raises when a record
lacks the replication key. The hub's sources need two other behaviours, chosen per stream:

* ``bookmarks = "record"`` (default): singer-sdk's per-record bookmark, but a record without a
  usable value (:meth:`HubBookmarks.is_valid_bookmark_value`) is still emitted - it just does
  not move the bookmark; :meth:`HubBookmarks.bookmark_record` may supply the value from
  elsewhere (tap-u8db reads it from the row, records never carry it);
* ``bookmarks = "stream"``: the stream keeps its own bookmark in its state (resumable passes,
  date windows, per-file fingerprints) and records never move it.

:meth:`HubBookmarks.write_checkpoint` emits STATE at a commit point the stream chooses (after a
page, a batch, a file): the hub's loader commits the records before it together with it.
:meth:`HubBookmarks.checkpoint` is the same at a commit point that comes often (every page of
100 records): STATE at most once a ``state_interval_seconds`` (config, default 1 s; 0: at every
one). A checkpoint passed over is not lost: the stream's state stays marked unwritten, so the
next checkpoint or singer-sdk's end-of-stream STATE carries it, and a stream that fails after one
writes its state before the error goes on (singer-sdk writes none then) - each STATE still after
every record it covers (the hub's streams move their state only once a page's records are out). A STATE per page cost the loader a commit per 100 records
(about a third of its CPU on a CRM sync); a killed sync now resumes at most that interval's pages
earlier (records read again land as unchanged versions, no duplicates).

singer-sdk 0.54 has no public hook for either: this module is the one place that overrides its
private ``_increment_stream_state`` and calls its private ``_write_state_message`` (the other
private override, of how RECORD messages are built, is :mod:`.records`).
"""

from __future__ import annotations

import time
import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

BOOKMARK_MODES = ("record", "stream")
#: Least seconds between two :meth:`HubBookmarks.checkpoint` STATEs (config ``state_interval_seconds``).
DEFAULT_STATE_INTERVAL_SECONDS = 1.0


class HubBookmarks:
    """Mixin placed before singer-sdk's ``Stream`` (or ``RESTStream``) in the bases."""

    #: "record" (per-record, tolerant) or "stream" (the stream keeps its own bookmark).
    bookmarks: t.ClassVar[str] = "record"
    #: When this stream last wrote a STATE at a :meth:`checkpoint` (monotonic seconds).
    _hub_checkpointed: float | None = None
    #: A checkpoint was passed over since the last STATE.
    _hub_unsaved: bool = False

    def sync(self, context: Context | None = None) -> None:
        """singer-sdk's sync; when it fails after a checkpoint passed over, that state is
        written first (the records it covers are out), so a rerun resumes there."""
        try:
            super().sync(context)  # type: ignore[misc]
        except Exception:
            if self._hub_unsaved:
                self._hub_unsaved = False
                try:
                    self.write_checkpoint()
                except Exception:  # stdout gone: the original error says more
                    pass
            raise

    def is_valid_bookmark_value(self, value: t.Any) -> bool:
        """Whether a record's replication-key value may advance the bookmark."""
        return value is not None

    def bookmark_record(self, record: Record) -> Record | None:
        """The record the bookmark is read from (None: this one does not move it)."""
        return record

    def _increment_stream_state(self, latest_record: Record, *, context: Context | None = None) -> None:
        """singer-sdk's per-record bookkeeping, under the policy above (private hook, see module)."""
        if self.bookmarks == "stream":
            return
        key = self.replication_key  # type: ignore[attr-defined]
        if key:
            record = self.bookmark_record(latest_record)
            if record is None:
                return
            value = record.get(key)
            if not self.is_valid_bookmark_value(value):
                if value is not None:
                    self.logger.warning(  # type: ignore[attr-defined]
                        "%s: record has an unusable %s value %r; it is emitted but does not advance the bookmark.",
                        self.name,  # type: ignore[attr-defined]
                        key,
                        value,
                    )
                return
            latest_record = record
        super()._increment_stream_state(latest_record, context=context)  # type: ignore[misc]

    def write_checkpoint(self) -> None:
        """Emit a STATE message now (every record yielded so far has been written before it)."""
        self.state_manager.is_flushed = False  # type: ignore[attr-defined]
        self._write_state_message()  # type: ignore[attr-defined]

    @property
    def state_interval_seconds(self) -> float:
        """Least seconds between two :meth:`checkpoint` STATEs (config ``state_interval_seconds``;
        0: one at every checkpoint)."""
        value = self.config.get("state_interval_seconds")  # type: ignore[attr-defined]
        return DEFAULT_STATE_INTERVAL_SECONDS if value is None else max(0.0, float(value))

    def checkpoint(self) -> None:
        """A commit point reached (every record yielded so far is written): STATE now when the
        interval has passed since this stream's last one, else left for a later STATE (module
        docstring)."""
        now = time.monotonic()
        last = self._hub_checkpointed
        if last is None or now - last >= self.state_interval_seconds:
            self.write_checkpoint()
            self._hub_checkpointed, self._hub_unsaved = now, False
        else:
            self.state_manager.is_flushed = False  # type: ignore[attr-defined]
            self._hub_unsaved = True
