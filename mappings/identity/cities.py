"""Where a record is, when its name does not say: the city of its address or of its landlines.

A clerk who keys in a firm from another city often drops the city from the name ("XX装饰工程有限
公司" of 杭州 next to the only XX customer, in 上海); the name key then points to exactly one
customer and would join it. The record still tells where it is: its address ("杭州市...") or the
area code of its landline (0571). This module infers those places so the engine can refuse to
join two records whose known places exclude each other on name evidence alone.

A record's *location* is, first that exists: the place its name states (explicit, the name key's
place), the province/city its address starts with (only with 省/市/自治区 written after it:
"北京东路" is a street in 上海, not 北京), the places of its landlines' area codes
(``area_codes.yaml``: one code may cover several cities, or a whole province). Mobiles say
nothing (they roam). Two locations *clash* when both are known and no place of one is compatible
with a place of the other (a city agrees with its province): a firm with offices in several
cities is compatible with each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from mappings.identity.phones import area_code
from mappings.normalize import normalize_name, simplify
from mappings.regions import (
    CITY_PROVINCE,
    CITY_SUFFIXES,
    PROVINCE_CITIES,
    PROVINCE_SUFFIXES,
    places_compatible,
)

AREA_CODES_FILE = Path(__file__).parent / "area_codes.yaml"
_CODE = re.compile(r"^0\d{2,3}$")
_LONGEST = max(len(p) for p in list(PROVINCE_CITIES) + list(CITY_PROVINCE))


def load_area_codes(path: Path | str | None = None) -> dict[str, tuple[str, ...]]:
    """Area code -> the places it covers, read from ``path`` and checked: a code that is no
    area code or a place :mod:`mappings.regions` does not know is an error, not a silent miss
    (an unknown place would be compatible with nothing and split real customers)."""
    path = Path(path or AREA_CODES_FILE)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: dict[str, tuple[str, ...]] = {}
    for code, places in raw.items():
        if not isinstance(code, str) or not _CODE.match(code):
            raise ValueError(f"{path}: {code!r} is no area code (write it quoted, e.g. \"0571\")")
        places = tuple(places) if isinstance(places, list) else (places,)
        unknown = [p for p in places if p not in PROVINCE_CITIES and p not in CITY_PROVINCE]
        if unknown or not places:
            raise ValueError(f"{path}: area code {code} names unknown places {unknown or places}")
        table[code] = places
    return table


@lru_cache(maxsize=1)
def area_codes() -> dict[str, tuple[str, ...]]:
    """The shipped table (read once)."""
    return load_area_codes()


def phone_places(phones: Iterable[str]) -> set[str]:
    """The places of the area-coded landlines among normalized ``phones`` (``0571-87654321``;
    see :func:`mappings.identity.phones.extract_phones`); mobiles and unknown codes add nothing."""
    table = area_codes()
    found: set[str] = set()
    for phone in phones:
        found.update(table.get(area_code(phone) or "", ()))
    return found


def _leading(text: str, names, suffixes) -> tuple[str | None, str]:
    """The longest place of ``names`` that ``text`` starts with *followed by* one of ``suffixes``."""
    for size in range(min(_LONGEST, len(text) - 1), 1, -1):
        if text[:size] in names:
            rest = text[size:]
            for suffix in suffixes:
                if rest.startswith(suffix):
                    return text[:size], rest[len(suffix):]
    return None, text


@lru_cache(maxsize=1 << 14)  # (extract.release_caches empties it after staging)
def address_place(address: str | None) -> str | None:
    """The city (else province) an address starts with, when written with its 省/市 suffix."""
    text = normalize_name(address) if address else None
    if not text:
        return None
    text = simplify(text).replace(" ", "")
    province, rest = _leading(text, PROVINCE_CITIES, PROVINCE_SUFFIXES)
    if province:  # a city after it must be one of its own (a municipality has none)
        cities = PROVINCE_CITIES[province]
        return (_leading(rest, cities, CITY_SUFFIXES)[0] if cities else None) or province
    return _leading(text, CITY_PROVINCE, CITY_SUFFIXES)[0]


def infer_cities(phones: Iterable[str], address: str | None) -> tuple[str, ...]:
    """The places a record's address, else its landlines, put it in (sorted; empty: unknown).
    The engine keeps them on ``Rec.cities``; a place the name states goes before them."""
    place = address_place(address)
    return (place,) if place else tuple(sorted(phone_places(phones)))


def location(recs: Iterable) -> set[str]:
    """The known places of a group of engine records: each record's explicit name place, else
    its inferred ``cities``."""
    found: set[str] = set()
    for r in recs:
        if r.key is not None and r.key.place:
            found.add(r.key.place)
        else:
            found.update(r.cities)
    return found


def group_location(recs: list) -> set[str]:
    """The location of a group: of its live records (deleted ones follow their company but never
    attract), of all of them when none is live."""
    return location(r for r in recs if not r.deleted) or location(recs)


def location_of(keys_cities: Iterable[tuple]) -> set[str]:
    """:func:`location` of records given as (name key, inferred cities) pairs (the engine reads
    them from columns, without a record object)."""
    found: set[str] = set()
    for key, cities in keys_cities:
        if key is not None and key.place:
            found.add(key.place)
        else:
            found.update(cities)
    return found


def nowhere_among(locations: list[set[str]], ids: list[int]) -> list[int]:
    """The ids of the records (namesakes, ``ids`` their engine indexes; ``locations`` each one's
    :func:`location`) placed nowhere, when the places of the others exclude each other: the name
    then belongs to several firms and says nothing about which one such a record is."""
    located = {frozenset(found) for found in locations} - {frozenset()}
    if any(clash(a, b) for a in located for b in located):
        return [i for i, found in zip(ids, locations, strict=True) if not found]
    return []


def clash(a: set[str], b: set[str]) -> bool:
    """Both locations are known and no place of one is compatible with a place of the other."""
    return bool(a and b) and not any(places_compatible(p, q) for p in a for q in b)
