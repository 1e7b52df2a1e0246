"""API keys, the healthchecks way: a recognisable prefix, a random secret, only a hash stored.

A key looks like ``pd_<key id>_<secret>``.  The key id is public (it is shown in lists and
lets the server find the stored hash with one indexed lookup); the secret has 256 bits of
entropy, so a fast SHA-256 is the right hash (argon2 is for low-entropy passwords) and the
comparison is ``hmac.compare_digest`` so timing tells an attacker nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "pd_"
_KEY_ID_BYTES = 6
_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown to the user once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return NewKey(
        key_id=key_id, secret_hash=hash_secret(secret), plaintext=f"{PREFIX}{key_id}_{secret}"
    )


def split_key(presented: str) -> tuple[str, str] | None:
    """Return ``(key_id, secret)`` of a well-formed key, else ``None`` (no database needed)."""
    if not presented.startswith(PREFIX):
        return None
    key_id, sep, secret = presented[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 2 * _KEY_ID_BYTES or not secret or len(secret) > 128:
        return None
    return key_id, secret


# Compared against when a key id is unknown: as long as a real hash, so an unknown key id
# costs what a wrong secret costs (``compare_digest`` is constant-time only for equal lengths).
MISSING_HASH = "0" * 64


def hash_matches(presented_hash: str, stored_hash: str | None) -> bool:
    """Whether the SHA-256 of a presented secret is the stored one, in constant time; a key
    that is not stored (``None``) takes the same comparison and fails."""
    matches = hmac.compare_digest(presented_hash, stored_hash or MISSING_HASH)
    return matches and stored_hash is not None


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    return hash_matches(hash_secret(secret), stored_hash)
