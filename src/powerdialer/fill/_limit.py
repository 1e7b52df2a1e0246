"""How many requests the fill keeps in flight: pinned by ``--concurrency N``, or adapted to
the far end (the default), the way TCP finds a link's capacity.

The adaptive limit climbs a hill of throughput, measured in *windows* of a few round trips.
A window's throughput is taken by Little's law, the requests on the wire (averaged over the
window's time) over their mean round trip: unlike counting answers, it does not depend on
where the window falls among answers that come back in bursts.

- **slow start**: from ``initial`` it doubles after every window whose throughput rose
  (at least half the rise the extra concurrency could buy, so noise does not count);
- the first window that did not rise ends slow start: the limit goes back to where the
  throughput was, and from then on probes upwards by an eighth at a time, stepping back
  whenever the probe bought nothing (a saturated server only queues the extra requests);
- a window whose round trip is over twice the shortest seen, without a rise, means requests
  mostly wait in the far end's queue: the limit drops to three quarters (without it, noise
  that passes for a rise now and then would ratchet the limit up to its ceiling);
- **a 429 or 503** (the far end says it is overloaded) cuts the limit to three quarters,
  once per round trip (the answers to requests sent under the old limit say nothing new).

Throughput bounded by ``--rate`` does not rise with concurrency, so the limit stops growing
there by itself.  The controller is a pure function of what it is told: every observation
carries its time (``now``, seconds on any monotonic clock), so it is tested on a set clock.
"""

from __future__ import annotations

import math

__all__ = ["AUTO_INITIAL", "AUTO_MAXIMUM", "ConcurrencyLimit"]

AUTO_INITIAL = 8
AUTO_MAXIMUM = 128  # the ceiling of the adaptive limit (and the connection pool's size)
BACKOFF = 0.75
MIN_SAMPLES = 8  # answers a window needs, at least, to judge throughput
RISE_SHARE = 0.5  # share of the ideal gain a window must show to count as a rise


class ConcurrencyLimit:
    """The current ``limit``; tell it :meth:`on_send` when a request goes on the wire, then
    :meth:`on_answer` when its answer is back (``overload``: a 429 or 503) or :meth:`on_lost`
    when none came.  ``fixed`` pins it."""

    def __init__(
        self,
        initial: int = AUTO_INITIAL,
        *,
        minimum: int = 1,
        maximum: int = AUTO_MAXIMUM,
        fixed: bool = False,
    ) -> None:
        self.minimum, self.maximum, self.fixed = minimum, max(minimum, maximum), fixed
        self.limit = max(self.minimum, min(self.maximum, initial))
        self.peak = self.limit
        self.slow_start = not fixed
        self.overloads = 0
        self._rtt: float | None = None  # smoothed round trip of answered requests
        self._window_start: float | None = None  # None: starts at the next answer
        self._count = 0
        self._rtt_sum = 0.0
        self._rtt_floor = math.inf  # the shortest mean round trip of a window so far
        self._in_flight = 0
        self._area = 0.0  # requests on the wire × seconds, since the window started
        self._last = 0.0  # when _area was last brought up to date
        self._baseline: tuple[int, float] | None = None  # (limit, throughput) it beat
        self._deaf_until = -math.inf  # overloads before this answer requests sent earlier

    def on_send(self, now: float) -> None:
        self._advance(now)
        self._in_flight += 1

    def on_lost(self, now: float) -> None:
        """A request sent earlier got no answer (a network error or a timeout)."""
        self._advance(now)
        self._in_flight = max(0, self._in_flight - 1)

    def on_answer(self, now: float, rtt: float, *, overload: bool = False) -> None:
        """A request sent ``rtt`` seconds before ``now`` was answered; ``overload``: with 429
        or 503 (the far end is saturated)."""
        self._advance(now)
        self._in_flight = max(0, self._in_flight - 1)
        if self.fixed:
            return
        if overload:
            self._overload(now)
            return
        self._rtt = rtt if self._rtt is None else 0.875 * self._rtt + 0.125 * rtt
        if self._window_start is None:
            self._window_start = now
            self._area, self._last = 0.0, now
        if now <= self._window_start:
            return  # still settling after a change: answers to requests of the old limit
        self._count += 1
        self._rtt_sum += rtt
        elapsed = now - self._window_start
        if self._count >= MIN_SAMPLES and elapsed >= 2 * self._rtt and self._rtt_sum > 0:
            on_wire = self._area / elapsed
            mean_rtt = self._rtt_sum / self._count
            queueing = mean_rtt > 2 * self._rtt_floor
            self._rtt_floor = min(self._rtt_floor, mean_rtt)
            self._judge(now, on_wire / mean_rtt, queueing)

    def _advance(self, now: float) -> None:
        start = self._window_start
        if start is not None and now > start:
            self._area += self._in_flight * (now - max(self._last, start))
        self._last = max(self._last, now)

    def _overload(self, now: float) -> None:
        self.overloads += 1
        if now < self._deaf_until:
            return
        self.slow_start = False
        self._baseline = None
        self._set(math.floor(self.limit * BACKOFF), now)
        self._deaf_until = self._window_start or now

    def _judge(self, now: float, throughput: float, queueing: bool) -> None:
        baseline = self._baseline
        rose = (baseline is None and not queueing) or (
            baseline is not None
            and baseline[0] < self.limit
            and throughput >= baseline[1] * (1 + RISE_SHARE * (self.limit / baseline[0] - 1))
        )
        if not rose:
            self.slow_start = False
            self._baseline = None
            if queueing:
                self._set(math.floor(self.limit * BACKOFF), now)
            else:  # more in flight bought nothing: go back, measure there again, probe later
                self._set(baseline[0] if baseline is not None else self.limit, now)
            return
        if self.limit >= self.maximum:
            self._set(self.limit, now)  # at the ceiling: keep measuring against the baseline
            return
        self._baseline = (self.limit, throughput)
        if self.slow_start:
            self._set(self.limit * 2, now)
        else:
            self._set(self.limit + max(1, self.limit // 8), now)

    def _set(self, limit: int, now: float) -> None:
        self.limit = max(self.minimum, min(self.maximum, limit))
        self.peak = max(self.peak, self.limit)
        # The next round trip still answers requests sent under the old limit.
        self._window_start = now + (self._rtt or 0.0)
        self._count, self._rtt_sum, self._area = 0, 0.0, 0.0
