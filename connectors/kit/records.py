"""``HubRecords``: singer-sdk's RECORD messages without its per-record walk when nothing is
deselected, and every record written when a stream's sync ends.

For every record singer-sdk 0.54 walks the record against the catalog's selection mask
(``pop_deselected_record_properties``: a copy of the record and a mask lookup per property, nested
objects included) and then conforms types. With a catalog that deselects nothing (the hub's
normal case) the walk removes nothing, and with ``TypeConformanceLevel.NONE`` (the hub's REST
streams) conforming returns the record unchanged; on the CRM tap the two were about a tenth of
its CPU. :meth:`HubRecords._generate_record_messages` skips exactly those two no-ops and is
otherwise singer-sdk's: a mask with any deselected property still gets the walk, a stream with
another conformance level still gets conformed, stream maps still apply.

A full-table stream given the hub's landed fingerprints (:mod:`.unchanged`) leaves out the records
the hub already holds in :meth:`HubRecords.post_process` (singer-sdk's public hook: a record it
drops costs none of the per-record path after it) and reports its pass in :meth:`HubRecords.sync`.

singer-sdk has no public hook for this; like :mod:`.bookmarks` this overrides a private method
(tests/connectors/test_kit_records.py compares the output with singer-sdk's own).
"""

from __future__ import annotations

import typing as t

import orjson
import singer_sdk.singerlib as singer
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from connectors.kit import unchanged
from connectors.kit.writer import dumps, flush_writer

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record


class HubRecords:
    """Mixin placed before singer-sdk's ``Stream`` (or ``RESTStream``) in the bases."""

    _hub_mask: t.Any = None
    _hub_selects_all: bool = False
    #: The pass's :class:`~.unchanged.UnchangedFilter` (None: every record is emitted).
    _hub_unchanged: unchanged.UnchangedFilter | None = None

    def _selects_all(self) -> bool:
        """Whether the selection mask keeps every property (read again if the mask changes)."""
        mask = self.mask  # type: ignore[attr-defined]
        if mask is not self._hub_mask:
            self._hub_mask, self._hub_selects_all = mask, all(mask.values())
        return self._hub_selects_all

    def sync(self, context: Context | None = None) -> None:
        """Sync, then write the records still pending in the tap's batching writer (a stream may
        sync alone, and its last STATE - which writes them - is skipped when the state is unchanged).

        A full-table stream the hub offered its landed fingerprints (:mod:`.unchanged`) emits only
        records the hub does not hold, and after its complete pass the report of what it saw."""
        whole = context is None and getattr(self, "parent_stream_type", None) is None and not self.partitions  # type: ignore[attr-defined]
        self._hub_unchanged = self._unchanged_filter() if whole else None  # one report per whole pass
        try:
            super().sync(context)  # type: ignore[misc]
            if self._hub_unchanged is not None:
                self._write_unchanged_report(self._hub_unchanged)
        finally:
            self._hub_unchanged = None
            flush_writer(self._tap.message_writer)  # type: ignore[attr-defined]

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        """singer-sdk's hook, then: None (not emitted, nor counted) for a record the hub holds.

        Skipped here, the record costs none of singer-sdk's per-record path; the filter is on only
        where the record emitted would be this one (:meth:`_unchanged_filter`)."""
        record = super().post_process(row, context)  # type: ignore[misc]
        skipper = self._hub_unchanged
        if skipper is not None and record is not None and skipper.skip(record):
            return None
        return record

    def _unchanged_filter(self) -> unchanged.UnchangedFilter | None:
        """The filter of this pass: a selected full-table stream whose records are emitted as
        ``post_process`` leaves them (no subclass hook after it, nothing deselected, no type
        conformance, the identity stream map) and whose SCHEMA is the one the hub's offer was
        made for; else None."""
        if self.replication_key or not self.selected:  # type: ignore[attr-defined]
            return None
        if type(self).post_process is not HubRecords.post_process or not self._selects_all():
            return None
        if self.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:  # type: ignore[attr-defined]
            return None
        maps = self.stream_maps  # type: ignore[attr-defined]
        if len(maps) != 1 or not isinstance(maps[0], SameRecordTransform) or maps[0].stream_alias != self.name:  # type: ignore[attr-defined]
            return None
        keys = maps[0].transformed_key_properties or []
        prints = unchanged.offered(self.config, self.name, maps[0].transformed_schema, keys)  # type: ignore[attr-defined]
        if prints is None:
            return None
        return unchanged.UnchangedFilter(self.name, prints, keys, _as_loaded)  # type: ignore[attr-defined]

    def _write_unchanged_report(self, pass_filter: unchanged.UnchangedFilter) -> None:
        """The end-of-pass record of :data:`.unchanged.REPORT_STREAM` (its SCHEMA once a tap run)."""
        tap = self._tap  # type: ignore[attr-defined]
        if not getattr(tap, "unchanged_schema_written", False):
            tap.write_message(singer.SchemaMessage(unchanged.REPORT_STREAM, unchanged.REPORT_SCHEMA, [], None))
            tap.unchanged_schema_written = True
        tap.write_message(singer.RecordMessage(stream=unchanged.REPORT_STREAM, record=pass_filter.report()))
        self.logger.info("%s: %d unchanged records not emitted.", self.name, pass_filter.unchanged)  # type: ignore[attr-defined]

    def _generate_record_messages(self, record: Record) -> t.Iterator[singer.RecordMessage]:
        """singer-sdk's RECORD messages for ``record``, minus the no-op walks (module docstring)."""
        if not self._selects_all():
            pop_deselected_record_properties(record, self.schema, self.mask)  # type: ignore[attr-defined]
        level = self.TYPE_CONFORMANCE_LEVEL  # type: ignore[attr-defined]
        if level != TypeConformanceLevel.NONE:
            record = conform_record_data_types(
                stream_name=self.name,  # type: ignore[attr-defined]
                record=record,
                schema=self.effective_schema,  # type: ignore[attr-defined]
                level=level,
                logger=self.logger,  # type: ignore[attr-defined]
            )
        for stream_map in self.stream_maps:  # type: ignore[attr-defined]
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=self._stream_version,  # type: ignore[attr-defined]
                    time_extracted=utc_now(),
                )


def _as_loaded(record: dict) -> dict:
    """``record`` as the hub's loader will read it: its JSON, as the tap writes it, read back."""
    return orjson.loads(dumps(record))
