"""Field access and text clean-up for staging, done once per path and once per distinct text.

Staging reads the same few paths of every landed record (276,730 customer records and their
contacts at 100k customers) and cleans the same texts over and over: a company's name, phone
field and address come back from several systems, its contacts share its switchboard, person
names repeat. So a path is split once (:func:`getter`), and the pure clean-ups are cached per
distinct text. Each function returns exactly what the uncached code returns (the caches are
bounded; a text that fell out is simply cleaned again).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, lru_cache

from mappings.declarative.casts import clean_text
from mappings.identity.phones import extract_phones
from mappings.normalize import NameKey, _leading_place, name_key, normalize_name, simplify

# Distinct texts kept per clean-up (names, phone fields, addresses). Small on purpose: the
# repeats that matter are near each other (a record's own fields, its contacts), and at 2**18
# the six caches held ~60 MB at 100k customers through staging, keys and all, for ~1 CPU s.
CACHE = 1 << 14
_PUNCT = re.compile(r"[\s,，.。、;；:：#＃()（）\-—_/]+")
_CODE_CHARS = re.compile(r"[\s\-]")


def walk(obj, parts: tuple[str, ...]):
    """A dotted path (already split) into nested objects; lists along the way yield lists."""
    value = obj
    for part in parts:
        if isinstance(value, list):
            value = [v.get(part) if isinstance(v, dict) else None for v in value]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


@cache
def getter(path: str) -> Callable[[object], object]:
    """``lambda record: get_path(record, path)`` with the path split once; a plain field of a
    plain object (the common case) is one ``dict.get``."""
    parts = tuple(path.split("."))
    if len(parts) > 1:
        return lambda obj: walk(obj, parts)
    part = parts[0]

    def get(obj):
        if type(obj) is dict:
            return obj.get(part)
        return walk(obj, parts)

    return get


def text(value) -> str | None:
    """A field's value as clean, trimmed text (the first of a list), or None: NUL and control
    characters removed (PostgreSQL text refuses NUL). A printable text (nearly all) has none of
    them: ``str.isprintable`` says so faster than the control-character search."""
    if type(value) is str:
        cleaned = (value if value.isprintable() else clean_text(value)[0]).strip()
        return cleaned or None
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, bool)):
        return None
    cleaned = clean_text(str(value))[0].strip()
    return cleaned or None


_LOCAL_EPOCH = datetime(1970, 1, 1, 8)  # the epoch in China time (UTC+8, no daylight saving)
_MICROSECOND = timedelta(microseconds=1)


def to_ms(value) -> int | None:
    """Epoch milliseconds from epoch ms or a ``YYYY-MM-DD[ HH:MM:SS]`` local (China) time."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    written = text(value)
    if not written:
        return None
    if written.isdigit():
        return int(written)
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # what ``moment.replace(tzinfo=UTC+8).timestamp()`` gives (microseconds / 1e6, the
        # same float), without an aware datetime per record
        return int((moment - _LOCAL_EPOCH) // _MICROSECOND / 1e6 * 1000)
    return int(moment.timestamp() * 1000)


@lru_cache(maxsize=CACHE)
def address_key(address: str | None) -> str | None:
    """An address reduced for comparison: NFKC, simplified, leading province/city and punctuation gone."""
    text = normalize_name(address)
    if not text:
        return None
    _, rest = _leading_place(simplify(text))
    rest = _PUNCT.sub("", rest)
    return rest if len(rest) >= 4 else None


def code_text(value) -> str | None:
    """A credit code as written, normalized (for near-code evidence when it is invalid)."""
    written = text(value)
    if not written:
        return None
    return _CODE_CHARS.sub("", unicodedata.normalize("NFKC", written)).upper()[:40] or None


@lru_cache(maxsize=CACHE)
def _norm(value: str) -> str | None:
    return normalize_name(value)


def norm_name(value) -> str | None:
    """:func:`mappings.normalize.normalize_name`, cached per distinct text."""
    return _norm(value) if isinstance(value, str) else None


@lru_cache(maxsize=CACHE)
def person(value: str | None) -> str | None:
    """A person's name as contacts are compared: normalized and simplified, or None."""
    name = normalize_name(value)
    return simplify(name) if name else None


@lru_cache(maxsize=CACHE)
def key_text(value: str | None) -> str | None:
    """``"<core>|<place>"`` of a name's key (how staged aliases are written), or None."""
    return key_text_of(name_key(value))


def key_text_of(key: NameKey | None) -> str | None:
    """``"<core>|<place>"`` of a name key, or None."""
    return f"{key.core}|{key.place or ''}" if key else None


@lru_cache(maxsize=CACHE)
def _phones_in(value: str) -> tuple[str, ...]:
    return tuple(extract_phones(value))


def phones(*values) -> list[str]:
    """:func:`mappings.identity.phones.extract_phones`, cached per distinct text: the numbers of
    several values are those of each text in turn, first occurrence kept."""
    return list(phones_of(values))


def phones_of(values) -> tuple[str, ...]:
    """:func:`phones` of the values in ``values`` (an iterable), as a tuple: a value may be a
    list of texts; the empty tuple, or the cached tuple when one text holds every number."""
    found: tuple[str, ...] = ()
    several = False
    for value in values:
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if type(item) is str:
                got = _phones_in(item)
            elif item is None or isinstance(item, bool):
                continue
            else:
                got = _phones_in(str(item))
            if got:
                if found:
                    found += got
                    several = True
                else:
                    found = got
    return tuple(dict.fromkeys(found)) if several else found


def release_caches() -> None:
    """Empty the staging's per-text caches (and the credit-code check's, the name keys' and the
    address places') once records are staged: at 100k customers they hold hundreds of thousands
    of texts the matching never reads. The name-key cache alone held every distinct company name
    (~50 MB at 100k customers) through matching and contacts; contact staging keys the few
    companies WeCom contacts name afresh (~1 CPU s). The address places' cache was never emptied
    (~3 MB at 10k customers, its raw addresses held among the engine's records to the end)."""
    from mappings.identity.cities import address_place
    from mappings.normalize import _name_key, _valid_uscc

    for cached in (_norm, person, key_text, _phones_in, address_key, _valid_uscc, _name_key, address_place):
        cached.cache_clear()


def clean_strings(row: dict) -> None:
    """Remove NUL/control characters from every text value of ``row`` (one scan when, as nearly
    always, there are none)."""
    values = "".join([v for v in row.values() if isinstance(v, str)])
    if not values.isprintable() and clean_text(values)[1]:
        row.update({k: clean_text(v)[0] for k, v in row.items() if isinstance(v, str)})
