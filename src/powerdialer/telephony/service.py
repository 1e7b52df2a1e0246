"""What the edges hand :func:`calls.place_call` from the server's settings: the secret box
(``POWERDIALER_SECRET_KEY``) and the outbound allow-list (``POWERDIALER_OUTBOUND_ALLOW``)."""

from __future__ import annotations

import functools

from powerdialer import outbound
from powerdialer.telephony.secrets import SecretBox


@functools.lru_cache(maxsize=8)
def secret_box(keys: str) -> SecretBox:
    return SecretBox(keys)


@functools.lru_cache(maxsize=8)
def allowed(blocks: tuple[str, ...]) -> tuple[outbound.Network, ...]:
    return outbound.networks(blocks)
