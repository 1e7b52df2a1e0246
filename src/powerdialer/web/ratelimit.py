"""Per-key token buckets: a sustained rate with a burst, published in ``RateLimit-*`` headers.

In process memory on purpose: the check sits on the hot path and must cost nanoseconds.  With
several instances each enforces its own share; docs/deployment.md says so.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again (or, when refused, until one token)


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: OrderedDict[object, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def hit(self, key: object, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
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
