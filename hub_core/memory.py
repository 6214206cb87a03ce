"""Giving freed memory back to the operating system between the phases of a long step.

CPython frees objects at once, but the C allocator keeps the pages they sat in: a dict table,
list or array of a phase (staging's look-up dicts, an engine's blocks) is freed into glibc's
heap, which then holds those pages until the process ends, so every later phase starts from the
earlier phases' high-water mark. ``malloc_trim(0)`` returns the free pages (anywhere in the heap,
glibc >= 2.8) and costs a few milliseconds. Elsewhere (macOS, musl) it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def give_back() -> None:
    """Return the C heap's free pages to the operating system (glibc ``malloc_trim``), after a
    phase that freed much (see the module docstring); no effect on anything else."""
    trim = _trim()
    if trim is not None:
        trim(0)
