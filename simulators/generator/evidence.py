"""The identity cases as the truth file lists them, with the evidence each tricky record shares
with the other records of its company (what a careful matcher can use besides the name)."""

from __future__ import annotations

import re
import unicodedata

from stdnum.cn import uscc

from .companies import Company
from .identity import Case

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def ref_of(system: str, rec: dict) -> str:
    """The record reference of a master record (world-and-results.md)."""
    if system == "crm":
        return f"crm:AccountObj:{rec['_id']}"
    if system == "u8":
        return f"u8:customer:{rec['code']}"
    return f"finance:credit_rating:{rec['customer_code']}"


def _code(text: str | None) -> set[str]:
    code = unicodedata.normalize("NFKC", text or "").replace(" ", "").replace("-", "").upper()
    return {code} if code and uscc.is_valid(code) else set()


def _address(text: str | None) -> set[str]:
    return {re.sub(r"^.*?(省|自治区)", "", text)} if text else set()


def _values(system: str, rec: dict, c: Company) -> dict[str, set[str]]:
    """Evidence kind -> the values this record holds for it."""
    if system == "crm":
        tel = rec.get("tel", "")
        mobiles = {tel} if _MOBILE.match(tel) else set()
        if rec is c.accounts[0]:  # CRM contacts hang on the main account
            mobiles |= {p.mobile for p in c.contacts}
        return {"code": _code(rec.get("uscc__c")), "phone": {tel} - mobiles - {""},
                "mobile": mobiles, "address": _address(rec.get("address"))}
    if system == "u8":
        return {"code": _code(rec.get("taxno")), "phone": {rec.get("phone")} - {"", None},
                "mobile": {rec.get("mobile")} - {"", None}, "address": _address(rec.get("address")),
                "u8_code": {rec["code"]}}
    return {"code": _code(rec.get("uscc")), "u8_code": {rec["customer_code"]}}


def _records(c: Company) -> list[tuple[str, dict]]:
    return ([("crm", r) for r in c.accounts] + [("u8", r) for r in c.customers]
            + [("finance", r) for r in c.ratings])


def evidence(system: str, rec: dict, c: Company) -> list[str]:
    """Kinds of evidence ``rec`` shares with another record of its own company."""
    mine = _values(system, rec, c)
    shared = set()
    for other_system, other in _records(c):
        if other is rec:
            continue
        theirs = _values(other_system, other, c)
        shared |= {k for k, v in mine.items() if v & theirs.get(k, set())}
    return sorted(shared)


def case_items(cases: list[Case], companies: list[Company]) -> list[dict]:
    """``truth.json`` ``identity_cases``: kind, refs (the tricky records, or every master record
    of the companies involved), how many companies, the evidence the first tricky record shares
    with its company's other records (empty for cases about several companies), and a note."""
    items = []
    for case in cases:
        involved = [companies[i] for i in case.companies]
        if case.records:
            c = involved[0]
            refs = [ref_of(s, r) for s, r in case.records]
            found = evidence(*case.records[0], c)  # the record a matcher has to place
        else:
            refs = [ref_of(s, r) for c in involved for s, r in _records(c)]
            found = []
        items.append({"kind": case.kind, "refs": refs, "companies": len(involved),
                      "evidence": found, "note": case.note})
    return sorted(items, key=lambda i: (i["kind"], i["refs"]))
