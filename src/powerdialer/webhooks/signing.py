"""Signing a delivery the Standard Webhooks way (https://www.standardwebhooks.com/): the
headers ``webhook-id`` (the event's id), ``webhook-timestamp`` (Unix seconds of this attempt)
and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body`` under
each secret still signing, separated by spaces: during a rotation's overlap both the new and
the old secret sign, so a receiver holding either verifies).  The HMAC is the
``standardwebhooks`` package's, the one receivers' libraries verify with."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import secrets
from collections.abc import Sequence

from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64: shown once, stored as is (HMAC needs it)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@functools.lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the secret once, not once a delivery


def signature(secret: str, event_id: str, when: dt.datetime, body: str) -> str:
    """``v1,<base64>`` for one secret."""
    return _webhook(secret).sign(event_id, when.astimezone(dt.UTC), body)


def headers(
    signing: Sequence[str], event_id: str, when: dt.datetime, body: str
) -> list[tuple[str, str]]:
    """The three headers for a delivery signed by every secret in ``signing``."""
    stamp = str(int(when.timestamp()))
    signed = " ".join(signature(secret, event_id, when, body) for secret in signing)
    return [
        ("webhook-id", event_id),
        ("webhook-timestamp", stamp),
        ("webhook-signature", signed),
        ("Content-Type", "application/json"),
        ("User-Agent", "powerdialer-webhooks/1"),
    ]
