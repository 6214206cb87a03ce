"""Full-table streams that emit only what changed, when the hub says what it already holds.

WeCom's external contacts and U8's customers have no "changed since" filter: every run reads the
whole table. Emitting every record costs the tap ~30-40 us and the hub's loader ~25-35 us a
record, to land the ~1 % that changed (bench/findings.md, "branch inc-sync"). So the hub's sync
hands our taps, in the config key :data:`CONFIG_KEY`, what it holds for each full-table stream:
per current, live raw record the 64-bit hash of its key (:func:`key_hash`) and the first 64 bits
of its content hash (the loader's ``record_hash``). The stream then

- computes the same two hashes for each record *as the loader will read it* (the record's JSON
  line read back), and does not emit a record whose pair is in the offer: landing it would add
  nothing (the loader keeps one version per content hash);
- emits every other record as before: new, changed, a key listed twice in the pass (its repeat
  is always emitted, so the last version wins as before);
- once its pass is complete, writes one record to :data:`REPORT_STREAM` -
  ``{"stream", "unchanged": <records not emitted>, "unseen": <packed key hashes of the offer the
  pass did not list>}`` - from which the loader knows which keys the pass *saw*, so a complete
  pass still marks deleted exactly the keys the source no longer returns, and ``"repeated"``:
  the packed key hashes of skipped records whose key the pass listed again, so the loader still
  reports that key as a duplicate of the run (``sync_duplicate_key``), as it would have seen both.

The offer is the hub's committed raw data, read when the sync starts, so skipping never depends
on the tap's state: the STATE format is untouched, a killed sync resumes as before, and a record
the loader set aside or froze (its landed hash is not the payload's) is emitted again as before.
The hub offers a stream only when that is exact (connectors/landed_prints.py: not after a failed
run, not for a stream that drifted, not for a key with an open quarantine entry); the stream uses
the offer only when its SCHEMA (schema and key) is the one the hub holds (:func:`schema_print`).

Without the key - any other Singer consumer - or with :data:`FORCE_KEY` true, every record is
emitted. Odds that a changed record keeps its 64-bit content print: 2^-64 per changed record.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import typing as t
from array import array

import orjson

from connectors.kit.hashes import record_hash
from connectors.kit.hashes import record_key as loader_key

CONFIG_KEY = "landed_fingerprints"
FORCE_KEY = "emit_unchanged"
REPORT_STREAM = "_unchanged"
REPORT_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "stream": {"type": "string"},
        "unchanged": {"type": "integer"},
        "unseen": {"type": "string"},
        "repeated": {"type": "string"},
    },
    "required": ["stream", "unchanged", "unseen"],
}


def key_hash(key: str) -> int:
    """A record key's 64-bit hash, the same in every process (BLAKE2b, as U8's fingerprints)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def content_print(record_hash: str) -> int:
    """The first 64 bits of a loader ``record_hash`` (64 hex digits) as an integer."""
    return int(record_hash[:16], 16)


#: orjson writes these types itself exactly as it reads them back (no ``default``): anything
#: else - a ``Decimal``, a date, a subclass, an integer beyond 64 bits - raises ``TypeError``.
_PLAIN = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
          | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _content(record: dict) -> dict:
    """The record without Singer's ``_sdc_*`` metadata (which the loader's hash leaves out)."""
    if any(k.startswith("_sdc_") for k in record):
        return {k: v for k, v in record.items() if not k.startswith("_sdc_")}
    return record


def record_print(record: dict) -> int:
    """:func:`content_print` of the loader's ``record_hash`` of ``record`` (a record as the
    loader reads it)."""
    return content_print(record_hash(record))


def record_key(record: dict, key_properties: t.Sequence[str]) -> str | None:
    """The loader's ``record_key`` of ``record``; None where the loader would find no usable key."""
    try:
        return loader_key(record, key_properties)
    except ValueError:
        return None


def schema_print(schema: t.Any, key_properties: t.Sequence[str]) -> str | None:
    """A short hash of a stream's SCHEMA (schema and key properties); None if not plain JSON."""
    try:
        text = orjson.dumps({"schema": schema, "keys": list(key_properties)}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return hashlib.sha256(text).hexdigest()[:32]


def pack(values: t.Iterable[int]) -> str:
    """Unsigned 64-bit integers as base64 of their little-endian bytes."""
    packed = array("Q", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def unpack(text: str) -> array:
    """The integers of :func:`pack`."""
    values = array("Q")
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def pack_offer(schema: str, prints: t.Mapping[int, int]) -> dict[str, str]:
    """One stream's offer: its :func:`schema_print` and ``key hash, content print`` pairs."""
    return {"schema": schema, "prints": pack(v for key in sorted(prints) for v in (key, prints[key]))}


def unpack_offer(entry: t.Any) -> tuple[str, dict[int, int]] | None:
    """``(schema print, {key hash: content print})`` of one stream's offer; None if malformed."""
    if not isinstance(entry, dict) or not isinstance(entry.get("schema"), str):
        return None
    try:
        values = unpack(str(entry.get("prints") or ""))
    except ValueError:
        return None
    if len(values) % 2:
        return None
    return entry["schema"], dict(zip(values[0::2], values[1::2], strict=True))


class UnchangedFilter:
    """One stream's pass against the hub's offer: which records to skip, and the report."""

    def __init__(self, stream: str, prints: dict[int, int], key_properties: t.Sequence[str],
                 as_loaded: t.Callable[[dict], dict]) -> None:
        self.stream = stream
        self.prints = prints
        self.key_properties = list(key_properties)
        self.as_loaded = as_loaded  # the record as the loader will parse it (its JSON read back)
        self.listed: dict[int, bool] = {}  # key hashes of this pass -> whether its first record was skipped
        self.repeated: set[int] = set()  # skipped keys listed again
        self.unchanged = 0

    def skip(self, record: dict) -> bool:
        """Whether ``record`` is the version the hub holds (and the first of its key in the pass)."""
        try:  # plain JSON values: the loader reads back what orjson writes, hash the record itself
            text = orjson.dumps(record, option=_PLAIN)
            if b'"_sdc_' in text:  # maybe Singer metadata: without it (rare; a C search otherwise)
                text = orjson.dumps(_content(record), option=_PLAIN)
            key = record_key(record, self.key_properties)
        except TypeError:  # a Decimal, a date...: as the writer writes it, read back
            loaded = self.as_loaded(record)
            content = _content(loaded)
            text = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
            key = record_key(loaded, self.key_properties)
        if key is None:
            return False
        kh = key_hash(key)
        if kh in self.listed:
            if self.listed[kh]:  # its first record was not emitted: the report names the repeat
                self.repeated.add(kh)
            return False  # a repeat in one pass: emitted, as before
        self.listed[kh] = False
        if self.prints.get(kh) != int.from_bytes(hashlib.sha256(text).digest()[:8], "big"):
            return False
        self.listed[kh] = True
        self.unchanged += 1
        return True

    def report(self) -> dict[str, t.Any]:
        """The end-of-pass record for :data:`REPORT_STREAM`."""
        unseen = sorted(k for k in self.prints if k not in self.listed)
        return {"stream": self.stream, "unchanged": self.unchanged, "unseen": pack(unseen),
                "repeated": pack(sorted(self.repeated))}


def offered(config: t.Mapping[str, t.Any], stream: str, schema: t.Any,
            key_properties: t.Sequence[str]) -> dict[int, int] | None:
    """The hub's offer for ``stream`` when it may be used: given, not forced off, for this SCHEMA."""
    if config.get(FORCE_KEY):
        return None
    offers = config.get(CONFIG_KEY)
    entry = offers.get(stream) if isinstance(offers, dict) else None
    parsed = unpack_offer(entry) if entry is not None else None
    if parsed is None or parsed[0] != schema_print(schema, key_properties):
        return None
    return parsed[1]
