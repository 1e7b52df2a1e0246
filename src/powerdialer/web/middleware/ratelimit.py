"""Per-key token buckets: a sustained rate with a burst, published in ``RateLimit-*`` headers.

In process memory on purpose: the check sits on the hot path and must cost nanoseconds.  With
several instances each enforces its own share unless ``POWERDIALER_RATE_LIMIT_STORAGE`` names a
Redis, where :mod:`.ratelimit_shared` counts one budget for all (awaitable there only); see
docs/deployment.md.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.responses import Message, Receive, Scope, Send, error_body, send_json

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again (or, when refused, until one token)


class Budget(Protocol):
    """What the 429 message names: either limiter's configured rate and burst."""

    rate: float
    burst: int


class AwaitedLimiter(Budget, Protocol):
    """A limiter whose ``hit`` is awaited: ``ratelimit_shared.SharedRateLimiter`` (Redis)."""

    @property
    def enabled(self) -> bool: ...

    async def hit(self, key: object, now: float | None = None) -> Decision: ...


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock  # what ``hit`` reads when not given ``now``; tests set their own
        self._max_keys = max_keys
        self._buckets: OrderedDict[object, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def hit(self, key: object, now: float | None = None) -> Decision:
        now = self.clock() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)  # forget the least recently seen key
        if allowed:
            reset = math.ceil((self.burst - tokens) / self.rate)
        else:
            reset = max(1, math.ceil((1.0 - tokens) / self.rate))
        return Decision(allowed, self.burst, int(tokens), reset)


def headers_for(decision: Decision) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_seconds).encode()),
    ]
    if not decision.allowed:
        headers.append((b"retry-after", str(decision.reset_seconds).encode()))
    return headers


def rate_limited_body(decision: Decision, limiter: Budget) -> bytes:
    return error_body(
        "rate_limited",
        f"too many requests for this key: retry after {decision.reset_seconds} s "
        f"(limit {limiter.rate:g}/s, burst {limiter.burst}).",
    )


class RateLimitMiddleware:
    """Applies the per-key limit to every API request whose key was verified (by
    ``web.middleware.keyauth.KeyAuthMiddleware``, which runs first), and publishes the budget in
    ``RateLimit-*`` headers.  Buckets are keyed by the verified project id (an integer) and
    key id, as on the compatible endpoint, so the two share one budget and a stranger who
    knows a key id but not its secret cannot spend it."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | AwaitedLimiter) -> None:
        self.app = app
        self.limiter = limiter
        # Memory: a plain call, no await; shared: awaited.  Sorted out once, here.
        self._local = limiter if isinstance(limiter, RateLimiter) else None
        self._shared = None if isinstance(limiter, RateLimiter) else limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        verified = scope.get(SCOPE_KEY)
        if not isinstance(verified, VerifiedKey) or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        key = (verified.project_id, verified.key_id)
        if self._local is not None:
            decision = self._local.hit(key)
        else:
            assert self._shared is not None
            decision = await self._shared.hit(key)
        extra = headers_for(decision)
        if not decision.allowed:
            await send_json(send, 429, rate_limited_body(decision, self.limiter), extra)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
