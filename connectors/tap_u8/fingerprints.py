"""The fingerprints of one windowed U8 stream, held and stored compactly.

A windowed stream remembers, for every header it emitted within the lookback window, the
header's day and a 64-bit content hash (:func:`connectors.tap_u8.incremental.fingerprint`).
Their number grows with the business, not with time: the 100k-customer world has 42k-82k
documents per stream in its last 8 days. Kept as a JSON object of strings
(``{"SO1": ["2026-11-18", "3f2a..."]}``) that was ~50 bytes of STATE and ~300 bytes of Python
objects a fingerprint, in the tap and again in the hub's loader, which parses every STATE: at
100k customers a 15 MB STATE, and most of why the U8 sync's peak RSS grew 4.5x for 45x the
records (bench/findings.md).

Now each one is two Python integers: a hash of the document's key (the first 8 bytes of its
BLAKE2b digest: stable across processes, unlike ``hash()``) mapped to the content hash with the
day's ordinal above its 64 bits (~120 bytes a fingerprint held); stored per day as one base64
string of the little-endian ``(key hash, content hash)`` pairs sorted by key hash (~22 bytes of
STATE a fingerprint, one string per day for the loader to parse)::

    "fingerprints": {"2026-11-18": "<base64 of key hash, hash, key hash, hash...>", "": "..."}

(``""``: headers without a usable day). Two keys of one stream's window with one key hash (odds
~n^2 / 2^65: ~1e-10 at 72k) would share a fingerprint: one of them could be taken for unchanged
and not fetched again until it changes once more.

The former ``seen`` object is still read (:meth:`Fingerprints.load`): a warehouse's stored state
resumes with the same verdicts, and is written back in this form.
"""

from __future__ import annotations

import hashlib
import typing as t
from array import array
from datetime import date

from connectors.kit.unchanged import pack, unpack

UNDATED = ""  # the stored name of the group of headers without a usable day


def key_hash(key: str) -> int:
    """A document key's 64-bit hash, the same in every process and run."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def content_hash(fingerprint: t.Any) -> int:
    """A stored fingerprint as a 64-bit integer: the former 16 hex digits read as a number (so a
    stored ``seen`` keeps its verdicts), anything else hashed."""
    if isinstance(fingerprint, int) and 0 <= fingerprint < 1 << 64:
        return fingerprint
    text = str(fingerprint)
    if len(text) == 16:
        try:
            return int(text, 16)
        except ValueError:
            pass
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def day_ordinal(day: str | None) -> int:
    """A ``YYYY-MM-DD`` day's ordinal (0: no day, or not a valid one)."""
    try:
        return date.fromisoformat(day).toordinal() if day else 0
    except ValueError:
        return 0


def packed(day: str | None, fingerprint: int) -> int:
    """A fingerprint with its day: what :class:`Fingerprints` keeps per key and compares."""
    return day_ordinal(day) << 64 | fingerprint


class Fingerprints:
    """key hash -> :func:`packed` day and content hash of one stream's window (module docstring).

    :meth:`prune` scans every fingerprint only when its cutoff moved, otherwise only the keys
    put since the last prune (a scan after every page made a first pass quadratic in the window:
    ~10^5 fingerprints, ~10^4 pages at 100k customers)."""

    def __init__(self) -> None:
        self._marks: dict[int, int] = {}
        self._cutoff: int | None = None  # the ordinal of the last prune's cutoff
        self._put: list[int] = []  # keys put since the last prune

    def __len__(self) -> int:
        return len(self._marks)

    @classmethod
    def load(cls, stored: t.Any, legacy: t.Any = None) -> Fingerprints:
        """The fingerprints of a stream state: its ``fingerprints`` (this module's form) and,
        from a state written before it, its ``seen`` object (``{key: [day, hex hash]}``)."""
        prints = cls()
        marks = prints._marks
        if isinstance(stored, dict):
            for day, text in stored.items():
                if isinstance(day, str) and isinstance(text, str):
                    high = day_ordinal(day) << 64
                    values = unpack(text)
                    for key, value in zip(values[0::2], values[1::2], strict=True):
                        marks[key] = high | value
        if isinstance(legacy, dict):
            for key, mark in legacy.items():
                if isinstance(mark, (list, tuple)) and len(mark) == 2:
                    day = mark[0] if isinstance(mark[0], str) else None
                    marks[key_hash(str(key))] = packed(day, content_hash(mark[1]))
        return prints

    def get(self, key: int) -> int | None:
        """The :func:`packed` fingerprint kept for ``key``."""
        return self._marks.get(key)

    def put(self, key: int, mark: int) -> None:
        """Keep the :func:`packed` fingerprint ``mark`` for ``key``."""
        self._marks[key] = mark
        self._put.append(key)

    def drop(self, key: int) -> None:
        """Forget ``key``."""
        self._marks.pop(key, None)

    def prune(self, cutoff: str) -> None:
        """Forget every dated fingerprint of a day before ``cutoff``."""
        limit = day_ordinal(cutoff)
        marks = self._marks
        if limit != self._cutoff:  # the first prune of a run, or the window moved on
            candidates: t.Iterable[int] = list(marks)
            self._cutoff = limit
        else:  # only what was put since the last prune can have fallen before the same cutoff
            candidates = self._put
        stale = [k for k in candidates if (m := marks.get(k)) is not None and 0 < m >> 64 < limit]
        self._put = []
        for key in stale:
            marks.pop(key, None)

    def undated(self) -> list[int]:
        """The keys kept without a day."""
        return [k for k, m in self._marks.items() if m >> 64 == 0]

    def items(self) -> t.Iterator[tuple[int, str | None, int]]:
        """Every ``(key hash, day, content hash)`` kept, by key hash."""
        for key, mark in sorted(self._marks.items()):
            ordinal = mark >> 64
            yield key, date.fromordinal(ordinal).isoformat() if ordinal else None, mark & _LOW

    def dump(self) -> dict[str, str]:
        """The stored form: per day (``""``: undated), the base64 of its pairs sorted by key hash."""
        groups: dict[int, array] = {}
        for key, mark in sorted(self._marks.items()):
            pairs = groups.get(mark >> 64)
            if pairs is None:
                pairs = groups[mark >> 64] = array("Q")
            pairs.append(key)
            pairs.append(mark & _LOW)
        return {date.fromordinal(o).isoformat() if o else UNDATED: pack(groups[o]) for o in sorted(groups)}


_LOW = (1 << 64) - 1
