"""Yonyou U8 OpenAPI stream classes and their schemas.

Replication (see :mod:`connectors.tap_u8.incremental`):

* the document lists (``saleorderlist``, ``consignmentlist``, ``saleinvoicelist``,
  ``oughtreceivelist``, ``acceptlist``) are INCREMENTAL on ``date``: listed by a date window
  from the bookmark minus ``lookback_days``, only new or changed headers emitted (and, for
  documents with lines, fetched); ``date_begin`` / ``date_end`` in the config narrow them further;
* ``inventory`` is INCREMENTAL on ``ModifyDate`` (``modifydate_begin`` / ``modifydate_end``);
* ``customer``, ``person`` and ``currentstock`` are FULL_TABLE: the OpenAPI filters them only by
  code / name (``customer``), not at all (``person``) or by inventory / warehouse code
  (``currentstock``) - nothing says what changed, so every run reads the whole table and the
  hub drops unchanged records by content hash (and marks records gone from a complete pass as
  deleted).

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

from connectors._singer_common import loose_object, prop
from connectors.tap_u8.client import U8Stream
from connectors.tap_u8.documents import U8DocumentStream, U8WindowedStream

_AMOUNT = prop("number", "string")
_DATE = prop("string", fmt="date")
_SYSTIME = prop("string", description="YYYY-MM-DD HH:MM:SS (Asia/Shanghai)")
_STR = prop("string")


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


class SaleOrderListStream(U8DocumentStream):
    """Sales orders (header + ``entry`` lines)."""

    name = "saleorderlist"
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


class OughtReceiveListStream(U8WindowedStream):
    """Receivables (应收单); fields partly unverified. The list holds the whole record."""

    name = "oughtreceivelist"
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


class AcceptListStream(U8WindowedStream):
    """Receipts (收款单); fields partly unverified. The list holds the whole record."""

    name = "acceptlist"
    schema = loose_object(
        {"code": _STR, "date": _DATE, "custcode": _STR, "amount": _AMOUNT},
        "U8 receipts",
    )


class InventoryStream(U8WindowedStream):
    """Inventory items (存货档案), windowed on their modified time."""

    name = "inventory"
    replication_key = "ModifyDate"
    window_field = "ModifyDate"
    window_params = ("modifydate_begin", "modifydate_end")
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
