"""Fenxiang Xiaoke stream classes and their schemas.

Stream names are the CRM object api names (record references become
``crm:<object>:<_id>``); the key is ``_id``; the replication key is
``last_modified_time`` (epoch ms).

Schemas declare the fields of source-systems.md / world-and-results.md with loose
types (every field nullable; amounts number-or-string; id lists of strings or
integers) and ``additionalProperties: true`` so tenant custom fields (``*__c``),
lookup display twins (``*__r``) and any undocumented field are kept untouched.
"""

from __future__ import annotations

import typing as t

from connectors._singer_common import loose_object, prop
from connectors.tap_fxiaoke.client import FxiaokeCustomObjectStream, FxiaokeStream

_ID_LIST = prop("array", items={"type": ["string", "integer", "null"]})
_AMOUNT = prop("number", "string")
_MS = prop("integer")

COMMON_FIELDS: dict[str, t.Any] = {
    "_id": prop("string"),
    "name": prop("string"),
    "owner": _ID_LIST,
    "create_time": _MS,
    "last_modified_time": _MS,
    "life_status": prop("string"),
    "is_deleted": prop("boolean"),
    "record_type": prop("string"),
    "data_own_department": _ID_LIST,
}

_ACCOUNT_LOOKUP: dict[str, t.Any] = {
    "account_id": prop("string"),
    "account_id__r": prop("string"),
}


def object_schema(extra: dict[str, t.Any] | None = None, description: str = "") -> dict:
    """Common CRM fields + object fields; other fields allowed."""
    return loose_object({**COMMON_FIELDS, **(extra or {})}, description or None)


GENERIC_SCHEMA = object_schema(description="A CRM object (common fields declared).")


class PersonnelObjStream(FxiaokeStream):
    """Employees. ``last_modified_time`` may be absent in some tenants: such records
    are emitted but do not move the bookmark. ``start_date`` does not apply (employees
    are reference data for every other object's ``owner``)."""

    name = "PersonnelObj"
    apply_start_date = False
    schema = object_schema(
        {
            "mobile": prop("string"),
            "main_department": prop(
                "string", "array", items={"type": ["string", "integer", "null"]}
            ),
            "leader_id": prop("string"),
        },
        "CRM employees",
    )


class AccountObjStream(FxiaokeStream):
    """Customers (accounts)."""

    name = "AccountObj"
    schema = object_schema(
        {
            "industry": prop("string"),
            "deal_status": prop("string"),
            "account_source": prop("string"),
            "last_followed_time": _MS,
            "address": prop("string"),
            "tel": prop("string"),
            "account_level": prop("string"),
            "uscc__c": prop("string", description="Tenant custom credit-code field"),
        },
        "CRM customers",
    )


class ContactObjStream(FxiaokeStream):
    """Contacts."""

    name = "ContactObj"
    schema = object_schema(
        {
            **_ACCOUNT_LOOKUP,
            "job_title": prop("string"),
            "mobile": prop("string"),
            "email": prop("string"),
        },
        "CRM contacts",
    )


class LeadsObjStream(FxiaokeStream):
    """Sales leads (not in the default object list; add it with ``objects``)."""

    name = "LeadsObj"
    schema = object_schema(description="CRM leads")


class NewOpportunityObjStream(FxiaokeStream):
    """Opportunities."""

    name = "NewOpportunityObj"
    schema = object_schema(
        {
            **_ACCOUNT_LOOKUP,
            "sales_stage": prop("string"),
            "sales_status": prop("string"),
            "amount": _AMOUNT,
            "probability": prop("number", "string"),
            "close_date": _MS,
            "stg_changed_time": _MS,
        },
        "CRM opportunities",
    )


class SalesOrderObjStream(FxiaokeStream):
    """Sales orders (header)."""

    name = "SalesOrderObj"
    schema = object_schema(
        {
            **_ACCOUNT_LOOKUP,
            "new_opportunity_id": prop("string"),
            "new_opportunity_id__r": prop("string"),
            "order_time": _MS,
            "order_amount": _AMOUNT,
            "payment_amount": _AMOUNT,
            "receivable_amount": _AMOUNT,
            "invoice_amount": _AMOUNT,
            "order_status": prop("string"),
        },
        "CRM sales orders",
    )


class ContractObjStream(FxiaokeStream):
    """Contracts."""

    name = "ContractObj"
    schema = object_schema(_ACCOUNT_LOOKUP, "CRM contracts")


class PaymentObjStream(FxiaokeStream):
    """Payments (回款)."""

    name = "PaymentObj"
    schema = object_schema(_ACCOUNT_LOOKUP, "CRM payments")


class ActiveRecordObjStream(FxiaokeStream):
    """Follow-up records."""

    name = "ActiveRecordObj"
    schema = object_schema(
        {**_ACCOUNT_LOOKUP, "active_record_content": prop("string")},
        "CRM follow-up records",
    )


STREAM_TYPES: dict[str, type[FxiaokeStream]] = {
    cls.name: cls
    for cls in (
        PersonnelObjStream,
        AccountObjStream,
        ContactObjStream,
        LeadsObjStream,
        NewOpportunityObjStream,
        SalesOrderObjStream,
        ContractObjStream,
        PaymentObjStream,
        ActiveRecordObjStream,
    )
}

DEFAULT_OBJECTS: tuple[str, ...] = (
    "PersonnelObj",
    "AccountObj",
    "ContactObj",
    "NewOpportunityObj",
    "SalesOrderObj",
    "ContractObj",
    "PaymentObj",
    "ActiveRecordObj",
)

__all__ = [
    "DEFAULT_OBJECTS",
    "GENERIC_SCHEMA",
    "STREAM_TYPES",
    "FxiaokeCustomObjectStream",
    "FxiaokeStream",
]
