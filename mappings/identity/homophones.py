"""Homophone typos: two company names one character apart where the two characters share a
reading (智/志 zhi, 丰/风 feng). Chinese is typed through pinyin input methods, so picking the
wrong candidate of the right syllable is the commonest one-character slip in a keyed-in name;
two different companies whose names differ by exactly that are rare. A one-character difference
that is not a homophone (联达/联智) stays weaker evidence: brands that share a character are common.
"""

from __future__ import annotations

import os
import sys
from functools import cache, lru_cache


@cache
def _pypinyin():
    """pypinyin's ``Style`` and ``pinyin``, imported on first use (not with the engine) and,
    when nothing imported it before, without its phrase dictionary: one character's readings
    never read it (the same readings for every CJK character, checked), and it holds ~40 MB
    for the whole resolution."""
    if "pypinyin" in sys.modules:
        from pypinyin import Style, pinyin

        return Style, pinyin
    before = os.environ.get("PYPINYIN_NO_PHRASES")
    os.environ["PYPINYIN_NO_PHRASES"] = "1"
    try:
        from pypinyin import Style, pinyin
    finally:
        if before is None:
            del os.environ["PYPINYIN_NO_PHRASES"]
        else:
            os.environ["PYPINYIN_NO_PHRASES"] = before
    return Style, pinyin


@lru_cache(maxsize=8192)
def readings(ch: str) -> tuple[str, ...]:
    """The toneless pinyin readings of one character, the commonest first (heteronyms follow);
    empty for a character without one (Latin letters, digits, punctuation)."""
    Style, pinyin = _pypinyin()
    if not "\u3400" <= ch <= "\u9fff":
        return ()
    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(r for r in (found[0] if found else ()) if r and r.isalpha())


def sound_alike(x: str, y: str) -> bool:
    """The commonest reading of one character is a reading of the other (长/昌 chang). A rare
    reading on both sides is not enough: 技/枝 share only the obscure qi and are a slip of the
    eye, not of the input method."""
    rx, ry = readings(x), readings(y)
    return bool(rx and ry) and (rx[0] in ry or ry[0] in rx)


def homophone_swap(a: str, b: str) -> bool:
    """``a`` and ``b`` have the same length and differ in exactly one character, and those two
    characters sound alike."""
    if len(a) != len(b) or a == b:
        return False
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    return len(diff) == 1 and sound_alike(*diff[0])
