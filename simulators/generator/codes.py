"""Identifiers: credit codes (valid, mistyped, sloppily written), record ids, mobile numbers."""

from __future__ import annotations

import random
import string
import unicodedata

from stdnum.cn import uscc

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"
_MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
).split()


def new_uscc(rng: random.Random, area: str, taken: set[str]) -> str:
    """A valid 18-char code: 9 (SAIC) + 1 (enterprise) + area code + org code + check char."""
    while True:
        org = "".join(
            rng.choice(string.digits) if rng.random() < 0.85 else rng.choice(_LETTERS)
            for _ in range(9)
        )
        body = "91" + area + org
        code = body + uscc.calc_check_digit(body)
        if code not in taken:
            taken.add(code)
            return code


def mistype_uscc(rng: random.Random, code: str) -> str:
    """The code with one typing slip (changed check char, one changed or two swapped chars).

    Always returns an invalid code: a slip that happens to keep the checksum right would give
    the company a second valid code, which the matching rules treat as another company.
    """
    while True:
        chars = list(code)
        slip = rng.choice(("check", "change", "swap"))
        if slip == "check":
            chars[17] = rng.choice([c for c in _ALPHABET if c != code[17]])
        elif slip == "change":
            i = rng.randint(8, 16)
            chars[i] = rng.choice([c for c in string.digits if c != code[i]])
        else:
            i = rng.randint(8, 15)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        typo = "".join(chars)
        if typo != code and not uscc.is_valid(typo):
            return typo


def sloppy_uscc(rng: random.Random, code: str) -> str:
    """A valid code written the way people type it: spaced, hyphenated, lower-case, full-width."""
    style = rng.choice(("spaced", "hyphen", "lower", "fullwidth"))
    if style == "spaced":
        return f"{code[:4]} {code[4:8]} {code[8:13]} {code[13:]}"
    if style == "hyphen":
        return f"{code[:8]}-{code[8:17]}-{code[17]}"
    if style == "lower":
        return code.lower()
    # Full-width forms (U+FF10..): NFKC folds them back, as the spec's normalization does.
    return "".join(chr(ord(c) + 0xFEE0) for c in code)


def is_valid_uscc(text: str | None) -> bool:
    """Whether ``text`` is a valid code once normalized (NFKC, spaces/hyphens, case)."""
    if not text:
        return False
    return uscc.is_valid(unicodedata.normalize("NFKC", text))


class Ids:
    """Unique record ids of each kind, drawn from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def object_id(self, created_ms: int) -> str:
        """A CRM ``_id`` in ObjectId style: 8 hex of the creation second + 16 random hex."""
        while True:
            value = f"{created_ms // 1000:08x}{self._rng.getrandbits(64):016x}"
            if value not in self._seen:
                self._seen.add(value)
                return value

    def token(self, prefix: str, length: int, alphabet: str) -> str:
        while True:
            value = prefix + "".join(self._rng.choice(alphabet) for _ in range(length))
            if value not in self._seen:
                self._seen.add(value)
                return value

    def mobile(self) -> str:
        """A mainland mobile number no one else in the world has (so mobiles link people)."""
        while True:
            value = self._rng.choice(_MOBILE_PREFIXES) + f"{self._rng.randrange(10**8):08d}"
            if value not in self._seen:
                self._seen.add(value)
                return value


def format_mobile(rng: random.Random, mobile: str, plain_share: float = 0.5) -> str:
    """The number as some system stores it: plain, or with +86 / 86 / spaces / hyphens."""
    if rng.random() < plain_share:
        return mobile
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    return rng.choice(
        (f"+86 {a}-{b}-{c}", f"86{mobile}", f"{a} {b} {c}", f"+86{mobile}", f"{a}-{b}-{c}")
    )
