"""Pacing requests: a token bucket (in its GCRA form) shared by every request a client sends,
including retries, plus a "hold" that pauses everyone after a 429/503 with ``Retry-After``.

The guarantee is exact on the moments requests are let go: over any window of W seconds at
most ``rate * W + burst`` requests start.  Waiters queue on a FIFO lock, so only the one at
the head sleeps (no thundering herd at thousands of requests a second), and a token is taken
at the moment its request is let go, so a hold that begins while someone sleeps is honoured.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable

__all__ = ["AsyncThrottle", "SyncThrottle", "default_burst"]


def default_burst(rate: float | None) -> int:
    """10 ms worth of requests, at least 1: an event loop's timers are ~1 ms coarse, so a
    burst of 1 would cap the rate near 1,000/s whatever was asked."""
    if not rate or rate <= 0:
        return 1
    return max(1, math.ceil(rate / 100))


class _Bucket:
    def __init__(self, rate: float | None, burst: int | None, clock: Callable[[], float]) -> None:
        self.rate = rate if rate is not None and rate > 0 else None
        self.burst = max(1, burst if burst is not None else default_burst(self.rate))
        self._clock = clock
        self._interval = 1.0 / self.rate if self.rate else 0.0
        self._tolerance = (self.burst - 1) * self._interval
        self._tat = 0.0  # theoretical arrival time of the next request
        self._hold_until = 0.0

    def hold(self, seconds: float) -> None:
        """Let nothing go for ``seconds`` from now (the server asked us to back off)."""
        self._hold_until = max(self._hold_until, self._clock() + seconds)

    def _wait(self) -> float:
        now = self._clock()
        wait = self._hold_until - now
        if self.rate is not None:
            wait = max(wait, self._tat - self._tolerance - now)
        return wait

    def _take(self) -> None:
        if self.rate is not None:
            self._tat = max(self._tat, self._clock()) + self._interval

    @property
    def idle(self) -> bool:
        return self.rate is None and self._hold_until <= self._clock()


class AsyncThrottle(_Bucket):
    def __init__(
        self,
        rate: float | None = None,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(rate, burst, clock)
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.idle:
            return
        async with self._lock:
            while (wait := self._wait()) > 0:
                await asyncio.sleep(wait)
            self._take()


class SyncThrottle(_Bucket):
    def __init__(
        self,
        rate: float | None = None,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(rate, burst, clock)
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.idle:
            return
        with self._lock:
            while (wait := self._wait()) > 0:
                time.sleep(wait)
            self._take()
