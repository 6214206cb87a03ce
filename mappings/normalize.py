"""Normalizers for the keys customers are matched on: credit codes, company names, mobiles."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mappings.regions import (
    CITY_PROVINCE,
    CITY_SUFFIXES,
    PROVINCE_CITIES,
    PROVINCE_SUFFIXES,
    place_of,
)

# Longest first, so 集团有限公司 is stripped whole rather than leaving 集团.
LEGAL_SUFFIXES = (
    "集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司",
    "有限公司", "集团公司", "股份公司", "集团", "公司", "厂", "经营部", "商行",
)
BRACKET_LEGAL_WORDS = {"集团", "股份", "有限", "有限公司", "有限合伙", "普通合伙", "控股", "中国"}
_BRACKET = re.compile(r"\(([^()]*)\)")
# Brackets NFKC leaves alone, read as round ones.
_OTHER_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})
_SPACES = re.compile(r"\s+")
# Separators people type between a parent's name and its branch, or inside names: "X有限公司-济南分公司".
_SEPARATORS = re.compile(r"[\-—–‐·•_.。,，、]+")
# A branch is never its parent: these markers split "<parent><branch place><marker>".
BRANCH_MARKERS = ("分公司", "办事处", "分厂")
_TRAD_SIMP_FILE = Path(__file__).parent / "identity" / "trad_simp.txt"
_MOBILE = re.compile(r"(?<!\d)(?:\+?86|0086)?[\s-]*(1[3-9](?:[\s-]*\d){9})(?!\d)")


def normalize_uscc(value) -> str | None:
    """The unified social credit code, normalized, if it is valid (check character included)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _valid_uscc(value)


# What python-stdnum's ``cn.uscc.validate`` accepts once separators are gone: eight ASCII digits,
# then ten characters of its alphabet (no I, O, S, V, Z), the last one the check character.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")
_USCC_VALUE = {c: n for n, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SEPARATORS_IN_CODE = re.compile(r"[\s\-]")


# (bounded: at 100k customers the codes held through staging were ~15 MB of its peak)
@lru_cache(maxsize=1 << 14)
def _valid_uscc(value: str) -> str | None:
    text = _SEPARATORS_IN_CODE.sub("", unicodedata.normalize("NFKC", value)).upper()
    if not _USCC_SHAPE.fullmatch(text):
        return None
    # the check character as stdnum computes it (GB 32100-2015), without its per-call clean-up
    # and exception: a credit code is checked for every staged record (tests: same verdicts)
    total = sum(_USCC_VALUE[c] * w for c, w in zip(text, _USCC_WEIGHTS))
    return text if text[17] == _USCC_ALPHABET[(31 - total) % 31] else None



def normalize_name(name) -> str | None:
    """NFKC (full-width brackets/digits to half-width), trimmed, inner whitespace removed."""
    if not isinstance(name, str):
        return None
    text = _SPACES.sub("", unicodedata.normalize("NFKC", name))
    return text or None


@lru_cache(maxsize=1)
def _trad_simp() -> dict[int, str]:
    pairs = []
    for line in _TRAD_SIMP_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            pairs += [p for p in line.split() if len(p) == 2 and p[0] != p[1]]
    return str.maketrans({p[0]: p[1] for p in pairs})


@lru_cache(maxsize=1)
def _key_table() -> dict[int, str]:
    """:func:`simplify` and the other brackets read as round ones, in one table (one pass over
    a name; the two tables share no character and neither maps onto the other's keys)."""
    return {**_trad_simp(), **_OTHER_BRACKETS}


def simplify(text: str) -> str:
    """Traditional characters to simplified ones (the table in identity/trad_simp.txt)."""
    return text.translate(_trad_simp())


@dataclass(frozen=True, slots=True)
class NameKey:
    """A company name reduced for comparison: its core, and the place it names, if any (slotted:
    one per staged record and contact)."""

    core: str
    place: str | None

    def compatible(self, other: NameKey) -> bool:
        from mappings.regions import places_compatible

        return self.core == other.core and places_compatible(self.place, other.place)


def _by_last_character(suffixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for suffix in suffixes:
        out[suffix[-1]] = out.get(suffix[-1], ()) + (suffix,)
    return out


# Only the suffixes ending in a text's last character can end it (their order kept).
_LEGAL_BY_LAST = _by_last_character(LEGAL_SUFFIXES)


def _strip_legal_suffixes(text: str) -> str:
    """Strip legal-form suffixes off the end, the first of LEGAL_SUFFIXES that fits each time,
    as long as something is left before it."""
    while text:
        for suffix in _LEGAL_BY_LAST.get(text[-1], ()):
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        else:
            return text
    return text


_LONGEST_PLACE = max(len(p) for p in list(PROVINCE_CITIES) + list(CITY_PROVINCE))
# The first characters of all place names (cities are all in CITY_PROVINCE): a text starting with
# none of them starts with no place, the common case for a company name.
_PLACE_FIRST = frozenset(p[0] for p in list(PROVINCE_CITIES) + list(CITY_PROVINCE))


def _strip_place(text: str, names, suffixes) -> tuple[str | None, str]:
    """The longest place in ``names`` that ``text`` starts with (and its 省/市 suffix), if
    something is left after it."""
    if text[:1] not in _PLACE_FIRST:
        return None, text
    for size in range(min(_LONGEST_PLACE, len(text) - 1), 0, -1):
        candidate = text[:size]
        if candidate in names:
            rest = text[size:]
            for suffix in suffixes:
                if rest.startswith(suffix):
                    rest = rest[len(suffix):]
                    break
            if rest:
                return candidate, rest
    return None, text


def _leading_place(text: str) -> tuple[str | None, str]:
    """Split a leading province and/or one of its cities (with or without 省/市) off ``text``."""
    province, text = _strip_place(text, PROVINCE_CITIES, PROVINCE_SUFFIXES)
    cities = PROVINCE_CITIES[province] if province else CITY_PROVINCE
    city, text = _strip_place(text, cities, CITY_SUFFIXES)
    return city or province, text


def _split_branch(parent: str) -> tuple[str, str]:
    """Split ``<parent company><branch name>`` (the text before 分公司) into its two parts:
    after the parent's legal-form suffix when it has one, else before a trailing place."""
    for suffix in LEGAL_SUFFIXES:
        if suffix in parent:
            head, _, branch = parent.rpartition(suffix)
            return head + suffix, place_of(branch) or branch
    for size in range(min(len(parent) - 1, 8), 1, -1):
        place = place_of(parent[-size:])
        if place:
            return parent[:-size], place
    return parent, ""


def name_key(name) -> NameKey | None:
    """See :func:`_name_key` (cached: the same names come back from every system)."""
    return _name_key(name) if isinstance(name, str) else None


# Bounded: a company's names come back from every system, but at 2**18 the raw names held at
# staging's peak were ~50 MB at 100k customers; at 2**15 most of the hits of a
# stream's own records remain (30k customers: ~0.2 CPU s more).
@lru_cache(maxsize=1 << 15)
def _name_key(name: str) -> NameKey | None:
    """The comparison key of a company name (see business-rules.md, matching rules).

    Strips legal-form suffixes and bracketed legal words, a leading province/city and a
    bracketed place; keeps the place so that different explicit cities stay different, and
    keeps a branch (…分公司, …办事处) distinct from its parent. Traditional characters are read
    as simplified ones.
    """
    text = normalize_name(name)
    if not text:
        return None
    text = _SEPARATORS.sub("", text.translate(_key_table()))
    bracket_place = None

    def drop_bracket(match: re.Match) -> str:
        nonlocal bracket_place
        inner = match.group(1)
        if inner in BRACKET_LEGAL_WORDS:
            return ""
        place = place_of(inner)
        if place:
            bracket_place = place
            return ""
        return inner

    if "(" in text:  # (most names have no brackets)
        text = _BRACKET.sub(drop_bracket, text)
    branch = ""
    marker = next((m for m in BRANCH_MARKERS if m in text), None)
    if marker:
        parent, _, tail = text.partition(marker)
        parent, branch_name = _split_branch(parent)
        branch = "#branch:" + branch_name + tail
        text = parent
    text = _strip_legal_suffixes(text)
    place, core = _leading_place(text)
    if not core:
        core, place = text, None
    core = _strip_legal_suffixes(core)
    return NameKey(core + branch, bracket_place or place)


def normalize_mobile(value) -> str | None:
    """The first mainland mobile number in ``value`` (11 digits), or None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value))
    match = _MOBILE.search(text)
    if not match:
        return None
    return re.sub(r"\D", "", match.group(1))
