"""One Singer stream per catalogue entry: SQL reads of U8's tables, emitted as tap-u8's records.

Incremental streams select ``mark > :last`` (rowversion: ``CONVERT(bigint, ufts)`` on SQL Server,
``CAST(ufts AS BIGINT)`` elsewhere) or ``mark >= :last`` (a modification time: a row saved in the
same second as the bookmark is read again rather than missed; the hub's loader drops the unchanged
copy by content hash), ordered by the mark so the bookmark can be checkpointed as rows go by.

The mark is the stream's replication key, but records never carry it: the record is exactly the
OpenAPI shape, so the downstream mappings cannot tell the two paths apart. The bookmark is taken
from the row the record came from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

import sqlalchemy as sa
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import Stream

from connectors.kit.bookmarks import HubBookmarks
from connectors.kit.records import HubRecords
from connectors.kit.schemas import loose_object, prop
from connectors.tap_u8db.catalog import Column, StreamSpec
from connectors.tap_u8db.tables import StreamTables

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

_FIELD_TYPES = {
    "str": lambda: prop("string"),
    "num": lambda: prop("number", "string"),
    "int": lambda: prop("integer"),
    "date": lambda: prop("string", fmt="date"),
    "datetime": lambda: prop("string", description="YYYY-MM-DD HH:MM:SS (U8 server local time)"),
}
_MARK_SCHEMA = {
    "rowversion": prop("integer", description="rowversion bookmark (never in records)"),
    "modified": prop("string", description="modification-time bookmark (never in records)"),
}


def _properties(columns: t.Iterable[Column]) -> dict[str, t.Any]:
    props: dict[str, t.Any] = {}
    for column in columns:
        # coded values arrive as the API's text (an unknown code as its digits)
        props[column.field] = prop("string") if column.values else _FIELD_TYPES[column.type]()
    return props


def stream_schema(spec: StreamSpec, tracking: tuple[str, str] | None) -> dict[str, t.Any]:
    """The stream's JSON schema: every mapped field (plus the lines list, plus the bookmark)."""
    props = _properties(spec.columns)
    for lookup in spec.lookups:
        props.update(_properties(lookup.columns))
    if spec.lines is not None:
        props[spec.lines.field] = prop("array", items=loose_object(_properties(spec.lines.columns)))
    if tracking is not None:
        props[tracking[1]] = dict(_MARK_SCHEMA[tracking[0]])
    return loose_object(props, f"U8 {spec.table} (database) in the OpenAPI '{spec.name}' shape")


class U8DBStream(HubBookmarks, HubRecords, Stream):
    """A U8 table (with its line table) read through SQLAlchemy."""

    #: Records are emitted as built from the catalogue: no coercion by singer-sdk.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = True  # ordered by the mark, so the bookmark advances as rows go by

    def __init__(self, tap: t.Any, spec: StreamSpec, tables: StreamTables, mode: str) -> None:
        self.spec = spec
        self.tables = tables
        self.tracking = spec.tracking(mode)
        super().__init__(tap=tap, name=spec.name, schema=stream_schema(spec, self.tracking))
        self.primary_keys = spec.key_fields
        self.replication_key = self.tracking[1] if self.tracking else None
        self._row_mark: t.Any = None

    # ---- SQL
    def _mark_expression(self) -> sa.ColumnElement:
        kind, name = self.tracking  # type: ignore[misc]
        column = self.tables.header.c[name]
        if kind != "rowversion":
            return column
        if self._tap.backend == "mssql":  # type: ignore[attr-defined]
            return sa.literal_column(f"CONVERT(bigint, {column.table.name}.{name})")
        return sa.cast(column, sa.BigInteger)

    def _start(self, context: Context | None) -> t.Any:
        """The bookmark as a SQL value; None (read whole) when there is none or it was kept for
        another mark (``change_tracking`` changed since the last run)."""
        if self.tracking is None:
            return None
        state = self.get_context_state(context)
        kept_for = state.get("replication_key")
        value = self.get_starting_replication_key_value(context)
        try:
            if kept_for not in (None, self.replication_key):
                raise ValueError(kept_for)
            if value is None:
                return None
            return int(value) if self.tracking[0] == "rowversion" else dt.datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            self.logger.warning("%s: the bookmark %r (for %s) does not fit the mark %s; reading the table whole.",
                                self.name, state.get("replication_key_value"), kept_for, self.replication_key)
            state.pop("replication_key_value", None)  # a new bookmark starts from this run's rows
            state["replication_key"] = self.replication_key
            return None

    def header_query(self, context: Context | None) -> sa.Select:
        """The header select: its code tables LEFT JOINed, filters, the incremental window, in mark (then id) order."""
        header = self.tables.header
        joined: sa.FromClause = header
        for lookup, table in zip(self.spec.lookups, self.tables.lookups, strict=True):
            joined = joined.outerjoin(table, header.c[lookup.on] == table.c[lookup.key])
        query = sa.select(header).select_from(joined)
        for lookup, table in zip(self.spec.lookups, self.tables.lookups, strict=True):
            query = query.add_columns(*(table.c[c.name].label(lookup.label(c)) for c in lookup.columns))
        for name, value in self.spec.where.items():
            query = query.where(header.c[name] == value)
        order: list[sa.ColumnElement] = []
        if self.tracking is not None:
            mark = self._mark_expression()
            query = query.add_columns(mark.label("_hub_mark"))
            start = self._start(context)
            if start is not None:
                query = query.where(mark > start if self.tracking[0] == "rowversion" else mark >= start)
            order.append(mark)
        order.extend(header.c[c.name] for c in self.spec.key_columns)
        if self.spec.id:
            order.append(header.c[self.spec.id])
        return query.order_by(*order)

    def _lines_for(self, conn: sa.Connection, ids: list[t.Any]) -> dict[t.Any, list[dict]]:
        lines_spec, table = self.spec.lines, self.tables.lines
        assert lines_spec is not None and table is not None
        found: dict[t.Any, list[dict]] = {i: [] for i in ids}
        query = (
            sa.select(table).where(table.c[lines_spec.parent].in_(ids))
            .order_by(table.c[lines_spec.parent], table.c[lines_spec.id])
        )
        for row in conn.execute(query).mappings():
            found[row[lines_spec.parent]].append(self.spec.record(row, lines_spec.columns))
        return found

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Rows in batches (bounded memory); a document's lines come in one query per batch."""
        batch = int(self.config.get("batch_size") or 500)
        with contextlib.ExitStack() as stack:
            conn = stack.enter_context(self._tap.connect())  # type: ignore[attr-defined]
            # Lines on a connection of their own: SQL Server (without MARS) refuses a second
            # statement while the header cursor is still open on the same connection.
            lines_conn = stack.enter_context(self._tap.connect()) if self.spec.lines else None  # type: ignore[attr-defined]
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(
                self.header_query(context)
            )
            for rows in result.mappings().partitions(batch):
                lines = self._lines_for(lines_conn, [r[self.spec.id] for r in rows]) if lines_conn else {}
                for row in rows:
                    record = self.spec.record(row)
                    if self.spec.lines is not None:
                        record[self.spec.lines.field] = lines.get(row[self.spec.id], [])
                    self._row_mark = self._bookmark_value(row.get("_hub_mark"))
                    yield record

    def _bookmark_value(self, value: t.Any) -> t.Any:
        if value is None or self.tracking is None:
            return None
        if self.tracking[0] == "rowversion":
            return int(value)
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)

    # ---- bookmarks
    def bookmark_record(self, record: Record) -> Record | None:
        """The bookmark comes from the row's mark (records do not carry it)."""
        if self._row_mark is None:
            return None
        return {**record, self.replication_key: self._row_mark}  # type: ignore[dict-item]
