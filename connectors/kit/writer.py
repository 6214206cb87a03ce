"""``HubSingerWriter``: singer-sdk's stdout writer with RECORD lines written in batches.

singer-sdk's ``SimpleSingerWriter`` does one ``write`` and one ``flush`` of stdout per message;
on a large sync that per-line system call is a measurable share of the tap's CPU. This writer
keeps RECORD lines pending and writes them in one call when

- any other message arrives (SCHEMA, STATE, ACTIVATE_VERSION...): the pending records go out
  first, so a STATE still follows every record it covers and the order of lines is unchanged;
- :data:`HubSingerWriter.FLUSH_LINES` lines are pending (bounded memory, steady output);
- the tap's ``sync_all`` or a stream's ``sync`` ends (:meth:`HubSingerWriter.flush`), so no
  record is ever left behind, also when a sync fails.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import typing as t

import orjson
from singer_sdk.helpers._state import StateWriter
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.singerlib.encoding.simple import RecordMessage, StateMessage
from singer_sdk.singerlib.json import serialize_json

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class HubSingerWriter(SimpleSingerWriter):
    """Writes Singer messages to stdout, RECORD lines batched (module docstring)."""

    #: Pending RECORD lines that trigger a write.
    FLUSH_LINES: t.ClassVar[int] = 500

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []

    def serialize_message(self, message: Message) -> str:
        """RECORD and STATE lines built straight from their fields (singer-sdk's ``to_dict``
        deep-copies the whole message first, and a windowed stream's STATE carries every
        fingerprint of its window); other messages as singer-sdk does."""
        if isinstance(message, StateMessage):
            return dumps({"type": "STATE", "value": message.value})
        if isinstance(message, RecordMessage):
            line: dict[str, t.Any] = {"type": "RECORD", "stream": message.stream, "record": message.record}
            if message.version is not None:
                line["version"] = message.version
            if message.time_extracted is not None:
                line["time_extracted"] = message.time_extracted
            return dumps(line)
        return super().serialize_message(message)

    def write_message(self, message: Message) -> None:
        """Queue the line; write the queue on a non-RECORD message or when it is full."""
        self.write_line(self.format_message(message), record=isinstance(message, RecordMessage))

    def write_line(self, line: str, *, record: bool = False) -> None:
        """Queue one serialised message (``record``: a RECORD line, which may wait)."""
        self._pending.append(line + "\n")
        if not record or len(self._pending) >= self.FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write every pending line to stdout (one call) and flush it."""
        if self._pending:
            sys.stdout.write("".join(self._pending))
            self._pending.clear()
        sys.stdout.flush()


class HubStateWriter(StateWriter):
    """singer-sdk's ``StateWriter`` (a STATE only when the state changed) without its deep copy.

    singer-sdk keeps a ``copy.deepcopy`` of every state it writes to compare the next one with;
    a U8 document list's state carries every fingerprint of its window (~200 KB of JSON), so that
    copy was about a twentieth of the U8 tap's CPU. This writer keeps the STATE line it wrote
    instead: the line is built anyway, and equal states give equal lines (the same dict, written
    by the same serialiser; a state whose keys merely moved would give one STATE more, never one
    fewer). With a writer other than :class:`HubSingerWriter` it is singer-sdk's own."""

    def __init__(self, message_writer: t.Any) -> None:
        super().__init__(message_writer)
        self._last_line: str | None = None

    def write_state(self, state: t.Any) -> None:
        """Write a STATE message if the state differs from the last one written."""
        writer = self._message_writer
        if not isinstance(writer, HubSingerWriter):
            super().write_state(state)
            return
        line = writer.format_message(StateMessage(value=state))
        if line != self._last_line:
            writer.write_line(line)
            self._last_line = line


#: What orjson serialises itself is exactly JSON's types; everything else goes to :func:`_default`.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _default(value: t.Any) -> t.Any:
    """singer-sdk's encoding of the non-JSON values records carry; anything else refuses."""
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return orjson.Fragment(str(value))  # the exact digits, as simplejson's use_decimal writes them
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, (datetime.date, datetime.time)):
        return str(value)
    raise TypeError


def _utf8(stream: t.Any) -> bool:
    """Whether text written to ``stream`` reaches its reader as UTF-8 (or stays text)."""
    encoding = getattr(stream, "encoding", None)
    return encoding is None or encoding.lower().replace("-", "").replace("_", "") == "utf8"


#: ``(stdout object, whether it is UTF-8)`` as :func:`_stdout_utf8` last found it.
_STDOUT_CHECKED: tuple[t.Any, bool] = (None, False)


def _stdout_utf8() -> bool:
    """:func:`_utf8` of ``sys.stdout``, taken again only when ``sys.stdout`` is another object
    (a tap asks once per message: the encoding's name normalised per RECORD was ~1 us each)."""
    global _STDOUT_CHECKED
    stream = sys.stdout
    checked_stream, utf8 = _STDOUT_CHECKED
    if checked_stream is not stream:
        utf8 = _utf8(stream)
        _STDOUT_CHECKED = (stream, utf8)
    return utf8


def dumps(message: dict[str, t.Any]) -> str:
    """One Singer line, as singer-sdk's ``serialize_json`` writes it but several times faster.

    orjson (C) writes the same JSON values: numbers with their digits (``Decimal("123.40")``
    stays ``123.40``), datetimes as singer-sdk formats them, ``NaN`` as ``null``; only the text
    differs in that characters beyond ASCII are written as UTF-8, not ``\\u`` escapes (any JSON
    reader, the hub's landing included, reads the same strings). A message orjson cannot write
    exactly (a non-finite ``Decimal``, an integer beyond 64 bits, a non-string key, a lone
    surrogate, an object of another type), or any message when stdout is not UTF-8, is written by
    ``serialize_json`` itself (ASCII)."""
    if not _stdout_utf8():
        return serialize_json(message)
    try:
        return orjson.dumps(message, default=_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return serialize_json(message)


class BatchedOutput:
    """Tap mixin (before singer-sdk's ``Tap``): RECORD lines batched by :class:`HubSingerWriter`,
    every pending one written when ``sync_all`` ends, also when it fails."""

    #: RECORD lines written to stdout in batches: fewer writes, less tap CPU.
    message_writer_class = HubSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        use_state_writer(self)

    def sync_all(self) -> None:
        """Sync, then write the records still pending."""
        try:
            super().sync_all()  # type: ignore[misc]
        finally:
            flush_writer(self.message_writer)  # type: ignore[attr-defined]


def flush_writer(writer: object) -> None:
    """Flush ``writer`` when it batches (a tap may be given another writer)."""
    if isinstance(writer, HubSingerWriter):
        writer.flush()


def use_state_writer(tap: t.Any) -> None:
    """Give ``tap`` (a singer-sdk ``Tap`` just built) a :class:`HubStateWriter` (singer-sdk reads
    both its ``_state_writer`` and its ``state_writer``, which returns it)."""
    tap._state_writer = HubStateWriter(tap.message_writer)
