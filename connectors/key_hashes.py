"""The keys a sync has seen, in about 8 bytes each: so a sync's memory does not grow with the data.

The loader remembers every key of a run twice over: to report a key that comes twice
(:mod:`connectors.load_events`) and, for full-table streams, to find the records a complete
pass no longer returned (:mod:`connectors.landing_deletes`). In Python sets that costs about
60-100 bytes a key, so a 1.5M-record stream held ~150 MB more at the end of its sync than at the
start - the one part of a sync that grew with the data (``bench/sync_memory.py``).

:class:`KeyHashes` keeps the 64-bit hash of each key (as the duplicate check always did): the
newest in a plain set, settled in bulk (numpy) once ``BUFFER`` of them wait into sorted, distinct ``int64`` arrays looked up by
binary search - a new array per settle, merged with the last while it is no larger, so there are
only ever ~log2(n / buffer) of them and each hash is copied ~log2(n / buffer) times. Two
different keys with one hash (odds about n / 2^64 per key: ~1e-13 at 2M keys) would read as one:
a key reported as a repeat although it was not (it still lands), or a record not marked deleted.
Hashes are those of this process (``hash()`` of a ``str`` is salted per interpreter), never
stored.
"""

from __future__ import annotations

BUFFER = 1 << 16  # hashes noted before they are settled into a sorted array


class KeyHashes:
    """A set of key hashes: the newest in a plain set, settled in bulk into sorted arrays.

    Until ``buffer`` keys have come nothing is settled and numpy is not even imported (a small
    or incremental pass costs what a set costs); ``len`` and :meth:`missing` count every key
    added so far.
    """

    def __init__(self, buffer: int | None = None) -> None:
        self._buffer = buffer or BUFFER
        self._fresh: set[int] = set()  # added, not yet settled
        self._runs: list = []  # sorted, distinct numpy int64 arrays, largest first, disjoint
        self._count = 0  # hashes in the runs

    @property
    def settled(self) -> bool:
        """Whether some hashes live in the sorted arrays (then new ones are checked at a settle)."""
        return bool(self._runs)

    def __len__(self) -> int:
        if self._runs:
            self.settle()
        return self._count + len(self._fresh)

    def add(self, key: str) -> None:
        """Note ``key`` (settled with the others once ``buffer`` of them wait)."""
        self.add_hash(hash(key))

    def add_hash(self, value: int) -> None:
        """Note a key by the hash a caller already took (``hash(key)``)."""
        self._fresh.add(value)
        if len(self._fresh) >= self._buffer:
            self.settle()

    def merge(self, hashes) -> set[int]:
        """Add ``hashes`` and settle them in one go; returns those of them already there."""
        self._fresh.update(hashes)
        return self.settle()

    def settle(self) -> set[int]:
        """Move the noted hashes into the sorted arrays; returns those of them already there."""
        if not self._fresh:
            return set()
        import numpy as np

        fresh = np.fromiter(self._fresh, dtype=np.int64, count=len(self._fresh))
        fresh.sort()
        self._fresh = set()
        known = self._found(fresh)
        new = fresh[~known]
        self._count += len(new)
        while self._runs and len(self._runs[-1]) <= len(new):
            new = np.concatenate((self._runs.pop(), new))
            new.sort(kind="stable")  # two sorted runs: merged in linear time
        if len(new):
            self._runs.append(new)
        return set(fresh[known].tolist())

    def missing(self, keys: list[str]) -> list[str]:
        """Those of ``keys`` not in the set (one vectorised look-up per call once settled)."""
        if not self._runs:
            fresh = self._fresh
            return [k for k in keys if hash(k) not in fresh]
        self.settle()
        if not keys:
            return []
        import numpy as np

        hashes = np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys))
        return [k for k, found in zip(keys, self._found(hashes).tolist()) if not found]

    def _found(self, hashes):
        """Which of ``hashes`` (a numpy int64 array) are in the settled arrays."""
        import numpy as np

        found = np.zeros(len(hashes), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, hashes)
            at[at == len(run)] = 0
            found |= run[at] == hashes
        return found
