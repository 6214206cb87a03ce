"""Read a generated world file one record at a time, so a 100k-customer world (~3 GB of JSON,
~9M records) can be landed and changed without holding it in memory.

``orjson`` refuses a file that large outright, and the Python objects of the whole world would
need several times its size in RAM. The generator (``simulators.generator``) writes one record
per line inside each stream's array, so a line-wise reader streams it with ``orjson`` per line;
a file in any other layout is read whole (small worlds written by hand) - never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

Record = tuple[str, str, dict]


def iter_world(path: Path) -> Iterator[Record]:
    """Every (system, stream, record) of the world file, in file order."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if b'"meta"' not in head or b"\n" not in head:
        yield from _whole(path)
        return
    system = stream = None
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if stream is not None:
                if stripped in (b"]", b"],"):
                    stream = None
                    continue
                try:
                    yield system, stream, orjson.loads(stripped.rstrip(b","))
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not one record per line ({exc})") from None
                continue
            if stripped.endswith(b"["):  # '"stream": ['
                if stripped != b"[" and system is not None:
                    stream = orjson.loads(stripped.split(b":", 1)[0])
                    continue
            elif stripped.endswith(b"{") and stripped != b"{":  # '"system": {'
                system = orjson.loads(stripped.split(b":", 1)[0])
                continue
            elif stripped in (b"}", b"},"):
                system = None


def _whole(path: Path) -> Iterator[Record]:
    yield from records_of(orjson.loads(path.read_bytes()))


def records_of(world: dict) -> Iterator[Record]:
    """Every (system, stream, record) of a world already in memory, in its order."""
    for system, streams in world.items():
        if system == "meta" or not isinstance(streams, dict):
            continue
        for stream, records in streams.items():
            for record in records or ():
                yield system, stream, record


def world_meta(path: Path) -> dict:
    """The world's ``meta`` block (its clock, seed) without reading the records."""
    from simulators.compact import read_meta

    return read_meta(path)


def by_system(records: Iterator[Record], system: str) -> Iterator[tuple[str, dict]]:
    """(stream, record) of one system, for a loader that lands one system at a time."""
    for sys_name, stream, record in records:
        if sys_name == system:
            yield stream, record


CHANGED_WHOLE = {("crm", "AccountObj"), ("crm", "NewOpportunityObj"), ("u8", "customer")}


def changed_world(path: Path, rng, change) -> tuple[dict, dict]:
    """Apply ``change`` (``incremental.change_one_percent``) as it would be applied to the whole
    world, holding only the streams it edits: accounts, deals and U8 customers whole, U8 orders as
    light stand-ins (date and position) of which only the picked ones are read back in full.
    Returns (the world to re-land: those streams, orders only where changed; the change counts).
    The re-land is equivalent to re-landing everything: the loader keeps only what changed."""
    world: dict = {"crm": {"AccountObj": [], "NewOpportunityObj": []}, "u8": {"customer": [], "saleorderlist": []}}
    stand_ins = world["u8"]["saleorderlist"]
    for system, stream, record in iter_world(path):
        if (system, stream) in CHANGED_WHOLE:
            world[system][stream].append(record)
        elif (system, stream) == ("u8", "saleorderlist"):
            stand_ins.append({"date": record["date"], "_at": len(stand_ins)})
    counts = change(world, rng)
    picked = {s["_at"]: s["cmemo"] for s in stand_ins if "cmemo" in s}
    orders, at = [], 0
    for system, stream, record in iter_world(path):
        if (system, stream) == ("u8", "saleorderlist"):
            if at in picked:
                record["cmemo"] = picked[at]
                orders.append(record)
            at += 1
    world["u8"]["saleorderlist"] = orders
    return world, counts
