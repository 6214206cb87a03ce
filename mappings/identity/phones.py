"""Phone numbers pulled out of messy free-text fields: mobiles and landlines, several per field.

A field may read "0755-8888 1234 转 8012 / 138 0013 8000, 手机:+86 139-0000-1111". Numbers are
normalized for comparison: mobiles to 11 digits, landlines to ``<area code>-<number>`` (the
extension dropped: all extensions of a switchboard are one number). A landline without an area
code is ambiguous across cities and is left out. The area code also places a record whose name
states no city (:mod:`mappings.identity.cities`).
"""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s\-]*)?(1[3-9]\d(?:[\s\-]?\d){8})(?![\d])")
# 010 and 02x are three-digit area codes, every other one has four digits.
_LANDLINE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s\-]*)?[(（]?(0(?:1\d|2\d|[3-9]\d{2}))[)）]?[\s\-]*(\d{3,4}[\s\-]?\d{4})(?![\d])")


_NON_DIGIT = re.compile(r"\D")


def extract_phones(*values) -> list[str]:
    """Every mobile and area-coded landline in ``values`` (strings or lists), normalized, in order."""
    found: list[str] = []
    for value in values:
        for text in (value if isinstance(value, (list, tuple)) else [value]):
            if text is None or isinstance(text, bool):
                continue
            text = unicodedata.normalize("NFKC", str(text))
            mobiles = _MOBILE.findall(text)
            if mobiles:
                found += [_NON_DIGIT.sub("", m) for m in mobiles]
                text = _MOBILE.sub(" ", text)
            for code, number in _LANDLINE.findall(text):
                number = _NON_DIGIT.sub("", number)
                if len(number) in (7, 8):
                    found.append(f"{code}-{number}")
    return list(dict.fromkeys(found))


def area_code(phone: str) -> str | None:
    """The area code of a normalized landline (``0571-87654321`` -> ``0571``); None for a mobile."""
    code, dash, _ = phone.partition("-")
    return code if dash else None
