"""The U8 tap's window bookkeeping alone: CPU of a first pass's fingerprints and pruning.

    python bench/u8_window.py --documents 400000 [--in-window 0.06]

A document stream keeps the fingerprint of every header in its lookback window
(``connectors/tap_u8/incremental.py`` ``Window``) and prunes the ones that fell out of it after
every page. The 100k-customer world has 42k-82k of its ~1.1M documents per stream in the last
8 days, so a first pass holds that many fingerprints. This replays a first pass over
``--documents`` headers in pages of 100 (keys in order, dates at random, ``--in-window`` of them
in the last 8 of 534 days, as that world) through the real ``Window`` and prints its CPU seconds
and the fingerprints kept, and the size of the stream's state as JSON (what a STATE carries).
``--memory``: also the peak of the Python memory the pass held (tracemalloc; slower CPU).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.tap_u8.incremental import Window


def first_pass(documents: int, in_window: float, seed: int = 1) -> tuple[float, int, int]:
    """CPU seconds of the bookkeeping of one first pass, how many fingerprints it kept and the
    bytes of its state as JSON."""
    pick = random.Random(seed)
    days = [(dt.date(2025, 6, 1) + dt.timedelta(days=i)).isoformat() for i in range(534)]
    recent, older = days[-8:], days[:-8]
    state: dict = {}
    window = Window(state, "date", 7)
    began = time.process_time()
    for page in range(documents // 100):
        for i in range(100):
            key = f"SO{page * 100 + i}"
            day = pick.choice(recent) if pick.random() < in_window else pick.choice(older)
            unchanged, mark = window.is_unchanged(key, {"code": key, "date": day})
            if not unchanged:
                window.emitted(key, mark)
        window.prune()
        window.page_done({}, page + 1)
    window.finish()
    return time.process_time() - began, len(window.fingerprints), len(json.dumps(state))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--documents", type=int, default=400_000)
    p.add_argument("--in-window", type=float, default=0.06)
    p.add_argument("--memory", action="store_true", help="trace the pass's Python memory (tracemalloc)")
    args = p.parse_args()
    if args.memory:
        tracemalloc.start()
    cpu, kept, size = first_pass(args.documents, args.in_window)
    if args.memory:
        print(f"peak traced memory of the pass: {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")
    print(f"{args.documents} documents, {args.in_window:.0%} in the window: {cpu:.2f} CPU s, {kept} fingerprints kept, "
          f"state {size / 1e6:.2f} MB of JSON")


if __name__ == "__main__":
    main()
