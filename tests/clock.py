"""A clock that moves only when the test moves it.

Code whose behaviour depends on the time takes it as an argument: ``now=`` (a UTC datetime for
what is stored, such as sessions, sign-in locks, idempotency claims, and later the dialer's
leases, retries and calling hours; monotonic seconds for intervals, such as rate limits, the
key cache and the health cache), or a ``clock`` callable on the few long-lived objects that
read the time for every request (``RateLimiter.clock``).  Its default is the real clock.
Tests pass this one instead, so "five minutes later" is a line, not a sleep, and a slow
machine cannot turn a test red.  Both faces move together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from powerdialer.models import utcnow


@dataclass
class Clock:
    # Starts at the real time (whole seconds), so what a test stamps with it and what the app
    # stamps with the real clock meanwhile still sort the way they happened.
    start: dt.datetime = field(default_factory=lambda: utcnow().replace(microsecond=0))
    elapsed: float = 0.0  # seconds the test has moved the clock on

    def now(self) -> dt.datetime:
        """The UTC time, for ``now=`` arguments that take a datetime."""
        return self.start + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        """Seconds, for ``now=`` arguments and clocks that stand for ``time.monotonic()``."""
        return 1_000.0 + self.elapsed

    def advance(self, **delta: float) -> None:
        """Move on by a ``timedelta``'s worth: ``advance(minutes=5)``, ``advance(seconds=0.6)``."""
        step = dt.timedelta(**delta).total_seconds()
        if step < 0:
            raise ValueError("time only moves forward")
        self.elapsed += step
