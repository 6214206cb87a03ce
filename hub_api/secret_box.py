"""Connector secrets at rest: configs are stored as Fernet tokens, never in clear.

The key comes from ``HUB_SECRET_KEY`` (comma-separated, newest first) or from the file named by
``HUB_SECRET_KEY_FILE`` (one key a line, newest first). Every key listed decrypts; the first
encrypts. To rotate: put a new key first, run ``hub api rotate-secrets`` (re-encrypts every
stored config with it), then drop the old key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class SecretKeyError(RuntimeError):
    """No usable key, or a stored config the configured keys cannot decrypt."""


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 of 32 random bytes)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def _keys() -> list[str]:
    if os.environ.get("HUB_SECRET_KEY"):
        return [k.strip() for k in os.environ["HUB_SECRET_KEY"].split(",") if k.strip()]
    path = os.environ.get("HUB_SECRET_KEY_FILE")
    if path:
        try:
            return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as exc:
            raise SecretKeyError(f"cannot read HUB_SECRET_KEY_FILE {path}: {exc.strerror}") from None
    return []


def box():
    """A MultiFernet over the configured keys; ``SecretKeyError`` when none is set or one is malformed."""
    from cryptography.fernet import Fernet, MultiFernet

    keys = _keys()
    if not keys:
        raise SecretKeyError("connector secrets need a key: set HUB_SECRET_KEY or HUB_SECRET_KEY_FILE "
                             "(make one with `hub api new-secret-key`)")
    fernets = []
    for position, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise SecretKeyError(f"secret key #{position} is not a Fernet key (32 url-safe base64 bytes)") from None
    return MultiFernet(fernets)


def seal(config: dict) -> str:
    """The config encrypted with the newest key."""
    return box().encrypt(json.dumps(config, ensure_ascii=False, sort_keys=True).encode("utf-8")).decode("ascii")


def unseal(token: str, where: str) -> dict:
    """The config a token holds; ``SecretKeyError`` naming ``where`` when no key opens it."""
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(box().decrypt(token.encode("ascii")))
    except InvalidToken:
        raise SecretKeyError(f"{where}: none of the configured secret keys decrypts the stored config") from None


def rotate(tokens: list[str]) -> list[str]:
    """The tokens re-encrypted with the newest key (each must open with one of the keys)."""
    from cryptography.fernet import InvalidToken

    multi = box()
    try:
        return [multi.rotate(t.encode("ascii")).decode("ascii") for t in tokens]
    except InvalidToken:
        raise SecretKeyError("a stored config opens with none of the configured keys; nothing was rotated") from None
