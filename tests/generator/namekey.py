"""The spec's name key and credit-code normalization, written independently of the generator."""

import re
import unicodedata

from simulators.generator.names import ALL_PLACES

_LEGAL = sorted(("集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司",
                 "有限公司", "集团公司", "股份公司", "集团", "公司", "厂", "经营部", "商行"),
                key=len, reverse=True)
_PLACE_OF = {p + s: p for p in ALL_PLACES for s in ("", "省", "市", "自治区", "壮族自治区")}


def _leading_place(text):
    """(form, place) of the longest province/city form the text starts with (not all of it)."""
    for n in range(min(len(text) - 1, 10), 1, -1):
        if text[:n] in _PLACE_OF:
            return text[:n], _PLACE_OF[text[:n]]
    return None, None


def name_key(name):
    """(core, explicit place) of a company name per business-rules.md."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    places = []

    def bracket(m):
        inner = m.group(1)
        if inner in ("集团", "股份"):
            return ""
        if inner in _PLACE_OF:
            places.append(_PLACE_OF[inner])
            return ""
        return m.group(0)

    text = re.sub(r"\(([^()]*)\)", bracket, text)
    text = strip_suffixes_plainly(text, _LEGAL)
    for _ in range(2):  # a province and/or a city
        form, place = _leading_place(text)
        if form:
            places.append(place)
            text = text[len(form):]
    return text, places


def _normal_code(text):
    return unicodedata.normalize("NFKC", text or "").replace(" ", "").replace("-", "").upper()


def strip_suffixes_plainly(text: str, suffixes) -> str:
    """Strip ``suffixes`` from the end of ``text`` the plain way: try each in order, strip the
    first that ends it (never the whole text), start again until none does. The reference the
    indexed suffix table of mappings/normalize.py is checked against."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    return text
