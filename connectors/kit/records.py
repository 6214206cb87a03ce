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

singer-sdk has no public hook for this; like :mod:`.bookmarks` this overrides a private method
(tests/connectors/test_kit_records.py compares the output with singer-sdk's own).
"""

from __future__ import annotations

import typing as t

import singer_sdk.singerlib as singer
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel

from connectors.kit.writer import flush_writer

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record


class HubRecords:
    """Mixin placed before singer-sdk's ``Stream`` (or ``RESTStream``) in the bases."""

    _hub_mask: t.Any = None
    _hub_selects_all: bool = False

    def _selects_all(self) -> bool:
        """Whether the selection mask keeps every property (read again if the mask changes)."""
        mask = self.mask  # type: ignore[attr-defined]
        if mask is not self._hub_mask:
            self._hub_mask, self._hub_selects_all = mask, all(mask.values())
        return self._hub_selects_all

    def sync(self, context: Context | None = None) -> None:
        """Sync, then write the records still pending in the tap's batching writer (a stream may
        sync alone, and its last STATE - which writes them - is skipped when the state is unchanged)."""
        try:
            super().sync(context)  # type: ignore[misc]
        finally:
            flush_writer(self._tap.message_writer)  # type: ignore[attr-defined]

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
