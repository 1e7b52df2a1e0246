"""A key's rate limit shared by every instance: the ``limits`` package's moving window in Redis.

Chosen by ``POWERDIALER_RATE_LIMIT_STORAGE=redis://host:port/db`` (the default, ``memory``,
keeps the per-process token bucket of :mod:`.ratelimit`).  The configured rate ``r`` a second
with burst ``B`` becomes the limit "``B`` per ``W`` seconds", ``W = ceil(B / r)``: at most ``B``
requests of one key, across all instances, in any ``W``-second stretch, so ``B`` may come at
once and the long-run rate is ``B / W`` (exactly ``r`` when ``B / r`` is whole, as with the
defaults, 4000 per 2 seconds).  Unlike the token bucket, a spent burst comes back all at once
``W`` seconds after it began, not one request every ``1 / r`` seconds.

Redis unreachable: fail open to this process's own token bucket (the memory backend), with a
warning logged at most once a minute, and Redis tried again a second later.  Each hit is two
round trips to Redis (the atomic acquire, then the window's count and oldest entry for the
``RateLimit-*`` headers); the memory backend stays synchronous.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from powerdialer.settings import SettingsError
from powerdialer.web.middleware.ratelimit import Decision, RateLimiter

log = logging.getLogger(__name__)

# A Redis that does not answer must not hold a request up for long: fail open after this.
REDIS_TIMEOUT_SECONDS = 0.5


class SharedRateLimiter:
    """The same budget as :class:`.ratelimit.RateLimiter`, counted in Redis; ``hit`` is
    awaitable.  ``now`` (monotonic seconds) only times the fallback: when Redis was last found
    down and when the warning was last logged; the window itself runs on the wall clock that
    ``limits`` reads, so instances on several machines need their clocks in step (NTP)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        url: str,
        *,
        prefix: str = "powerdialer",
        retry_seconds: float = 1.0,
        warn_every_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:  # an optional dependency: `pip install "powerdialer[redis]"`
            from limits import RateLimitItemPerSecond
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import MovingWindowRateLimiter
            from limits.errors import StorageError
            from redis.asyncio import ConnectionPool
        except ImportError:
            raise SettingsError(
                "POWERDIALER_RATE_LIMIT_STORAGE names a Redis but the `limits` package is not "
                'installed: pip install "powerdialer[redis]", or set it to memory.'
            ) from None
        self._errors: tuple[type[Exception], ...] = (StorageError, OSError)
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.window_seconds = max(1, math.ceil(burst / rate)) if rate > 0 else 1
        self.item = RateLimitItemPerSecond(burst, self.window_seconds, namespace="key")
        self.local = RateLimiter(rate, burst, clock=clock)  # the fallback while Redis is down
        self.retry_seconds = retry_seconds
        self.warn_every_seconds = warn_every_seconds
        self._down_at: float | None = None  # when Redis last failed; None: it answers
        self._warned_at: float | None = None
        self._pool = ConnectionPool.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.storage = RedisStorage(
            "async+" + url,
            implementation="redispy",
            key_prefix=prefix,
            wrap_exceptions=True,
            connection_pool=self._pool,  # type: ignore[arg-type]  # passed on to redis-py
        )
        self.strategy = MovingWindowRateLimiter(self.storage)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    async def hit(self, key: object, now: float | None = None) -> Decision:
        now = self.clock() if now is None else now
        if self._down_at is not None and now - self._down_at < self.retry_seconds:
            return self.local.hit(key, now)
        ids = [str(part) for part in key] if isinstance(key, tuple) else [str(key)]
        try:
            allowed = await self.strategy.hit(self.item, *ids)
            stats = await self.strategy.get_window_stats(self.item, *ids)
        except self._errors as exc:
            self._failed(now, exc)
            return self.local.hit(key, now)
        self._down_at = None
        if allowed:  # this request is the newest in the window: all of it is free W s on
            reset = self.window_seconds
        else:  # one slot is free once the oldest request leaves the window
            reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, self.burst, max(0, stats.remaining), reset)

    async def close(self) -> None:
        """Close the connections to Redis (the application's shutdown calls this)."""
        try:
            await self._pool.disconnect()
        except self._errors as exc:
            log.info("closing the rate limit storage: %s", exc)

    def _failed(self, now: float, exc: BaseException) -> None:
        self._down_at = now
        if self._warned_at is None or now - self._warned_at >= self.warn_every_seconds:
            self._warned_at = now
            log.warning(
                "rate limit storage unreachable (%s): each instance limits keys on its own "
                "until it answers again",
                exc,
            )
