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

singer-sdk 0.54 has no public hook for either: this module is the one place that overrides its
private ``_increment_stream_state`` and calls its private ``_write_state_message`` (the other
private override, of how RECORD messages are built, is :mod:`.records`).
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

BOOKMARK_MODES = ("record", "stream")


class HubBookmarks:
    """Mixin placed before singer-sdk's ``Stream`` (or ``RESTStream``) in the bases."""

    #: "record" (per-record, tolerant) or "stream" (the stream keeps its own bookmark).
    bookmarks: t.ClassVar[str] = "record"

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
