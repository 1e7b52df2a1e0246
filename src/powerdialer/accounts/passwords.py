"""Passwords: argon2id hashes, checks for new passwords, generated first passwords.

Passwords are low-entropy, so their hash must be slow and memory-hard: argon2id with
argon2-cffi's RFC 9106 "low memory" profile.  (API keys carry 256 random bits and are hashed
with a fast SHA-256 instead: see :mod:`powerdialer.keys`.)
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from powerdialer.errors import ValidationError

MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_HASHER = PasswordHasher()


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"the password is shorter than {MIN_PASSWORD} characters: choose a longer one.",
            code="invalid_password",
            field="password",
            reason="too_short",
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            f"the password is longer than {MAX_PASSWORD} characters.",
            code="invalid_password",
            field="password",
            reason="too_long",
        )
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """Verified when an email has no account, so a miss takes as long as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    """20 URL-safe characters (120 bits): printed once, meant to be changed."""
    return secrets.token_urlsafe(15)
