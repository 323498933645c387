"""Secrets stored hashed: scrypt (the standard library's), a salt per secret.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (base64), so the cost can be
raised later and old hashes still verify. Passwords and application credential secrets
are chosen by people, so they get a slow, salted hash; tokens are random (see
:mod:`dcsim_openstack.identity.tokens`) and a plain SHA-256 suffices for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 16 MiB of memory and about 50 ms per hash: the OWASP minimum for scrypt.
_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of ``secret``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one ``stored`` was made from."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


#: A stored hash nothing verifies against: checked when a user is unknown, so timing
#: does not tell an unknown user from a wrong password.
DUMMY_HASH = hash_secret(secrets.token_hex(16))

__all__ = ["DUMMY_HASH", "hash_secret", "verify_secret"]
