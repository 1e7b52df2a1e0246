"""The telephony secrets a project stores (a click-to-call ``Auth-key``, an AMI secret, an ESL
password), encrypted at rest so that they can be sent to the PBX but not read from a copy of
the database or a backup.

Fernet (the ``cryptography`` package): AES-128-CBC with an HMAC-SHA256 over it, a vetted
construction with nothing of ours in it.  The Fernet key is the SHA-256 of
``POWERDIALER_SECRET_KEY``, so any long random string serves (``openssl rand -base64 32``).
Several comma-separated keys rotate: the first encrypts, every one decrypts (``MultiFernet``);
a secret sealed under a key no longer listed cannot be opened and must be entered again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from powerdialer.errors import Conflict, ValidationError


class SecretUnreadable(Conflict):
    """A stored secret that none of the configured keys opens (the key was changed)."""

    code = "secret_unreadable"


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(key.strip().encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    """Seal and open secrets with the configured keys; with none, nothing can be sealed."""

    def __init__(self, keys: str) -> None:
        parts = [part for part in keys.split(",") if part.strip()]
        self._box = MultiFernet([_fernet(part) for part in parts]) if parts else None

    @property
    def ready(self) -> bool:
        return self._box is not None

    def seal(self, secret: str, field: str) -> str:
        if self._box is None:
            raise ValidationError(
                f"{field} cannot be stored: the server has no POWERDIALER_SECRET_KEY to "
                "encrypt it with; ask whoever runs the service to set one "
                "(docs/configuration.md), then save it again.",
                code="secret_key_missing",
                field=field,
            )
        return self._box.encrypt(secret.encode()).decode()

    def open(self, sealed: str, field: str) -> str:
        if self._box is None:
            raise SecretUnreadable(
                f"{field} is stored encrypted but the server has no POWERDIALER_SECRET_KEY "
                "now: set the key it was saved with, or enter the secret again.",
                field=field,
            )
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"{field} was encrypted with a key the server no longer has "
                "(POWERDIALER_SECRET_KEY changed): enter it again in the telephony settings.",
                field=field,
            ) from None
