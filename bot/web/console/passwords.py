"""Console passwords: scrypt with a salt per account (hashlib's, from OpenSSL), checked off
the event loop because a slow hash is the point."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets

# scrypt's memory-hard cost (16 MiB, ~50 ms here): slow for a guesser, fine for a login.
N, R, P, LENGTH = 2**14, 8, 1, 32
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A self-describing hash: scrypt$N$r$p$salt$key."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=LENGTH)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by hash_password (any cost it was made with)."""
    try:
        name, n, r, p, salt, key = stored.split("$")
        if name != "scrypt":
            return False
        expected = base64.b64decode(key)
        found = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, expected)


@functools.cache
def _decoy() -> str:
    # Checked when the username is unknown, so that a wrong name costs as long as a wrong
    # password and the time taken does not tell which names exist.
    return hash_password(secrets.token_urlsafe(12))


async def check(password: str, stored: str | None) -> bool:
    """verify_password in a thread; against a decoy when there is no account."""
    return await asyncio.to_thread(verify_password, password, stored or _decoy()) and bool(stored)


def acceptable(password: str) -> str | None:
    """Why `password` cannot be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with spaces"
    return None
