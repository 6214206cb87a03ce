"""Yonyou U8 OpenAPI stream classes and their schemas.

Every U8 stream is FULL_TABLE: the OpenAPI offers no modified-since filter for most
resources (only ``inventory`` has ``modifydate_*``), so each run reads the whole
resource and the hub drops unchanged records by content hash. ``date_begin`` /
``date_end`` can still narrow the order and receivable lists (config).

Types are loose on purpose: amounts and quantities may be JSON numbers *or* numeric
strings (``["number","string","null"]``); dates are ``YYYY-MM-DD`` (``format: date``);
system times are ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai, which is not RFC 3339, so
they carry no format. Values are emitted unchanged - a malformed one (``"not-a-date"``,
``"abc"``) passes through and the hub's loader sets the record aside.

Document resources (orders, dispatch notes, invoices) are emitted one record per
document, exactly as ``/api/{name}/get`` returns it (header fields plus ``entry`` lines).
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

from connectors._singer_common import loose_object, prop
from connectors.tap_u8.client import NO_DATA, U8Stream
from connectors.tap_u8.auth import errcode

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

_AMOUNT = prop("number", "string")
_DATE = prop("string", fmt="date")
_SYSTIME = prop("string", description="YYYY-MM-DD HH:MM:SS (Asia/Shanghai)")
_STR = prop("string")

#: ``date_begin`` / ``date_end`` config -> the list call's parameters of the same name.
_DATE_FILTERS = {"date_begin": "date_begin", "date_end": "date_end"}


def _lines(properties: dict[str, t.Any]) -> dict[str, t.Any]:
    return prop("array", items=loose_object(properties))


class PersonStream(U8Stream):
    """Employees (业务员)."""

    name = "person"
    schema = loose_object(
        {"code": _STR, "name": _STR, "mobile": _STR, "deptcode": _STR}, "U8 persons"
    )


class CustomerStream(U8Stream):
    """Customers."""

    name = "customer"
    schema = loose_object(
        {
            "code": _STR,
            "name": _STR,
            "abbrname": _STR,
            "sort_code": _STR,
            "industry": _STR,
            "address": _STR,
            "contact": _STR,
            "phone": _STR,
            "mobile": _STR,
            "spec_operator": _STR,
            "taxno": _STR,
            "ModifyDate": _SYSTIME,
            "timestamp": prop("string", "integer"),
        },
        "U8 customers",
    )


class U8DocumentStream(U8Stream):
    """A document list whose lines (``entry``) come from the single-document call.

    ``batch_get`` returns headers only; with ``fetch_lines`` (default on) every header
    is replaced by the full document from ``GET /api/{get name}/get?...&id=<key>``.
    The get name defaults to the real OpenAPI's singular resource (``saleorder`` for
    ``saleorderlist``); override per resource with the ``get_resources`` config map.
    """

    #: Header field holding the document key passed as ``id``.
    id_field = "code"

    @property
    def get_name(self) -> str:
        overrides = self.config.get("get_resources") or {}
        if self.resource in overrides:
            return str(overrides[self.resource])
        return self.resource.removesuffix("list") or self.resource

    def fetch_document(self, doc_id: t.Any, context: Context | None) -> dict | None:  # noqa: ANN401
        payload = self.call_api(
            "GET",
            f"/api/{self.get_name}/get",
            params={**self.account_params(), "id": doc_id},
            context=context,
        )
        if not isinstance(payload, dict) or errcode(payload) == NO_DATA:
            return None
        for key in (self.get_name, self.resource):
            if isinstance(payload.get(key), dict):
                return payload[key]
        candidates = [
            v for k, v in payload.items() if k not in {"errcode", "errmsg"} and isinstance(v, dict)
        ]
        return candidates[0] if len(candidates) == 1 else None

    def _full_document(self, header: t.Any, context: Context | None) -> t.Any:  # noqa: ANN401
        """The document with its lines, or the header alone when it cannot be fetched."""
        doc_id = header.get(self.id_field) if isinstance(header, dict) else None
        if doc_id in (None, ""):
            self.logger.warning(
                "%s: header without %s, emitted without lines: %r", self.name, self.id_field, header
            )
            return header
        document = self.fetch_document(doc_id, context)
        if document is None:
            self.logger.warning(
                "%s: %s %s not returned by /api/%s/get; emitting the header only.",
                self.name,
                self.id_field,
                doc_id,
                self.get_name,
            )
            return header
        return document

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        if self.config.get("fetch_lines") is False:
            yield from self.request_records(context)
            return
        # One `get` per document is the API's only way to lines; a few run at once (bounded by
        # `lines_concurrency`) so latency, not the source, sets the pace. Order is preserved.
        workers = max(1, int(self.config.get("lines_concurrency") or 4))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"u8-{self.name}") as pool:
            for chunk in _chunks(self.request_records(context), self.rows_per_page):
                yield from pool.map(lambda h: self._full_document(h, context), chunk)


def _chunks(items: t.Iterable[t.Any], size: int) -> t.Iterator[list[t.Any]]:
    chunk: list[t.Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class SaleOrderListStream(U8DocumentStream):
    """Sales orders (header + ``entry`` lines)."""

    name = "saleorderlist"
    config_filters = _DATE_FILTERS
    schema = loose_object(
        {
            "code": _STR,
            "date": _DATE,
            "state": _STR,
            "custcode": _STR,
            "cusname": _STR,
            "deptcode": _STR,
            "personcode": _STR,
            "money": _AMOUNT,
            "sum": _AMOUNT,
            "createsystime": _SYSTIME,
            "verifysystime": _SYSTIME,
            "fhstatus": _STR,
            "entry": _lines(
                {
                    "inventorycode": _STR,
                    "inventoryname": _STR,
                    "quantity": _AMOUNT,
                    "taxunitprice": _AMOUNT,
                    "taxrate": _AMOUNT,
                    "money": _AMOUNT,
                    "natsum": _AMOUNT,
                }
            ),
        },
        "U8 sales orders",
    )


class ConsignmentListStream(U8DocumentStream):
    """Dispatch notes (发货单)."""

    name = "consignmentlist"
    schema = loose_object(
        {
            "code": _STR,
            "date": _DATE,
            "state": _STR,
            "custcode": _STR,
            "cusname": _STR,
            "sum": _AMOUNT,
            "entry": _lines(
                {
                    "socode": _STR,
                    "inventory_code": _STR,
                    "warehouse_code": _STR,
                    "quantity": _AMOUNT,
                    "sum": _AMOUNT,
                }
            ),
        },
        "U8 dispatch notes",
    )


class SaleInvoiceListStream(U8DocumentStream):
    """Sales invoices (key ``invoiceno``)."""

    name = "saleinvoicelist"
    primary_keys: t.ClassVar[list[str]] = ["invoiceno"]
    id_field = "invoiceno"
    schema = loose_object(
        {
            "invoiceno": _STR,
            "date": _DATE,
            "customercode": _STR,
            "vouchertype": _STR,
            "sum": _AMOUNT,
            "entry": _lines(
                {
                    "inventorycode": _STR,
                    "quantity": _AMOUNT,
                    "originalsum": _AMOUNT,
                    "sum": _AMOUNT,
                }
            ),
        },
        "U8 sales invoices",
    )


class OughtReceiveListStream(U8Stream):
    """Receivables (应收单); fields partly unverified."""

    name = "oughtreceivelist"
    config_filters = _DATE_FILTERS
    schema = loose_object(
        {
            "code": _STR,
            "date": _DATE,
            "custcode": _STR,
            "personcode": _STR,
            "amount": _AMOUNT,
            "balance": _AMOUNT,
            "duedate": _DATE,
        },
        "U8 receivables",
    )


class AcceptListStream(U8Stream):
    """Receipts (收款单); fields partly unverified."""

    name = "acceptlist"
    schema = loose_object(
        {"code": _STR, "date": _DATE, "custcode": _STR, "amount": _AMOUNT},
        "U8 receipts",
    )


class InventoryStream(U8Stream):
    """Inventory items (存货档案)."""

    name = "inventory"
    schema = loose_object(
        {
            "code": _STR,
            "name": _STR,
            "specs": _STR,
            "sort_code": _STR,
            "unit": _STR,
            "ModifyDate": _SYSTIME,
        },
        "U8 inventory items",
    )


class CurrentStockStream(U8Stream):
    """Current stock. No code of its own: the key is inventory code + warehouse code,
    ``invcode`` + ``whcode`` as the OpenAPI (and our simulator) name them; batch-tracked
    rows also carry ``batch``. Tenants/exports that spell them differently
    (``inventory_code`` / ``warehouse_code``) set ``key_properties`` in the config."""

    name = "currentstock"
    primary_keys: t.ClassVar[list[str]] = ["invcode", "whcode"]
    schema = loose_object(
        {
            "invcode": _STR,
            "whcode": _STR,
            "batch": _STR,
            "quantity": _AMOUNT,
            "available_quantity": _AMOUNT,
            "inventory_code": _STR,
            "warehouse_code": _STR,
        },
        "U8 current stock",
    )


STREAM_TYPES: dict[str, type[U8Stream]] = {
    cls.name: cls
    for cls in (
        PersonStream,
        CustomerStream,
        SaleOrderListStream,
        ConsignmentListStream,
        SaleInvoiceListStream,
        OughtReceiveListStream,
        AcceptListStream,
        InventoryStream,
        CurrentStockStream,
    )
}
DEFAULT_RESOURCES: tuple[str, ...] = tuple(STREAM_TYPES)
GENERIC_SCHEMA = loose_object({"code": _STR}, "A U8 OpenAPI list resource")
