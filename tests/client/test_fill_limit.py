"""The adaptive concurrency limit of ``powerdialer fill`` (``_limit.py``), on a set clock: a
small discrete-event model of a far end feeds it the answers a real one would, in simulated
seconds, so a test of minutes of sending runs in milliseconds and never sleeps."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from powerdialer.fill._limit import AUTO_INITIAL, AUTO_MAXIMUM, ConcurrencyLimit

ONE_WAY = 0.025  # 50 ms round trip


@dataclass
class FarEnd:
    """Answers after a 50 ms round trip plus ``hold`` seconds of work; ``per_second``:
    serves one request at a time at that rate (a saturated server queues the rest);
    ``max_concurrent``: answers 429 at once to a request that finds that many being served."""

    per_second: float | None = None
    max_concurrent: int | None = None
    hold: float = 0.0
    jitter: float = 0.0  # each request's work varies by up to this share, either way
    random: random.Random = field(default_factory=lambda: random.Random(7))
    busy_until: float = 0.0
    serving: list[float] = field(default_factory=list)  # completion times

    def answer(self, now: float) -> tuple[float, int]:
        """(when the answer is back, status) for a request sent at ``now``."""
        arrives = now + ONE_WAY
        self.serving = [t for t in self.serving if t > arrives]
        if self.max_concurrent is not None and len(self.serving) >= self.max_concurrent:
            return arrives + ONE_WAY, 429
        done = arrives + self.hold
        if self.per_second is not None:
            work = 1 / self.per_second
            work *= 1 + self.jitter * (2 * self.random.random() - 1)
            done = max(arrives, self.busy_until) + work
            self.busy_until = done
        self.serving.append(done)
        return done + ONE_WAY, 200


@dataclass
class Run:
    answered: list[float] = field(default_factory=list)  # times of 200s
    refused: int = 0
    limits: list[tuple[float, int]] = field(default_factory=list)

    def throughput(self, start: float, end: float) -> float:
        return sum(start <= t < end for t in self.answered) / (end - start)

    def mean_limit(self, start: float, end: float) -> float:
        chosen = [n for t, n in self.limits if start <= t < end]
        return sum(chosen) / len(chosen)


def simulate(
    limit: ConcurrencyLimit,
    far: FarEnd,
    seconds: float,
    retry_after: float = 0.25,
    on_time: Callable[[float, ConcurrencyLimit], None] = lambda t, lim: None,
) -> Run:
    """Keep ``limit.limit`` requests in flight for ``seconds`` of simulated time, as the
    sender's slots do: a refused request keeps its slot while it waits to be retried."""
    run = Run()
    order = itertools.count()
    events: list[tuple[float, int, str, float]] = []  # (time, order, kind, sent at)
    in_flight = 0

    def send(now: float) -> None:
        limit.on_send(now)
        back, status = far.answer(now)
        heapq.heappush(events, (back, next(order), "ok" if status == 200 else "429", now))

    def top_up(now: float) -> None:
        nonlocal in_flight
        while in_flight < limit.limit:
            in_flight += 1
            send(now)

    top_up(0.0)
    while events:
        now, _, kind, sent = heapq.heappop(events)
        if now > seconds:
            break
        if kind == "retry":
            send(now)
            continue
        if kind == "ok":
            limit.on_answer(now, now - sent)
            run.answered.append(now)
            in_flight -= 1
        else:
            limit.on_answer(now, now - sent, overload=True)
            run.refused += 1
            heapq.heappush(events, (now + retry_after, next(order), "retry", now))
        run.limits.append((now, limit.limit))
        on_time(now, limit)
        top_up(now)
    return run


def test_it_grows_while_throughput_rises_up_to_its_ceiling() -> None:
    limit = ConcurrencyLimit()
    run = simulate(limit, FarEnd(), seconds=3.0)

    assert limit.limit == AUTO_MAXIMUM
    reached = next(t for t, n in run.limits if n == AUTO_MAXIMUM)
    assert reached < 1.0  # doubling each few round trips: 8 → 128 in well under a second
    # 128 in flight at 50 ms: ~2,560 answers a second, 30× and more one request at a time.
    assert run.throughput(1.5, 3.0) > 30 / 0.05


def test_it_stops_growing_where_throughput_stops_rising() -> None:
    """A server that serves 400 requests a second: past 400 × 50 ms = 20 in flight, more
    only queue.  The limit settles near that knee, not at its ceiling, at full throughput."""
    limit = ConcurrencyLimit()
    run = simulate(limit, FarEnd(per_second=400), seconds=30.0)

    assert run.throughput(10, 30) > 0.9 * 400
    assert 20 <= run.mean_limit(10, 30) <= 50
    assert limit.peak < AUTO_MAXIMUM


def test_noise_does_not_ratchet_it_up_against_a_saturated_server() -> None:
    """Answers whose timing varies by ±60% now and then look like a rise; a limit that only
    stepped back after a failed probe would climb to its ceiling over a long fill."""
    limit = ConcurrencyLimit()
    run = simulate(limit, FarEnd(per_second=400, jitter=0.6), seconds=300.0)

    assert run.throughput(60, 300) > 0.9 * 400
    assert run.mean_limit(60, 300) <= 50  # the knee is 20
    assert max(n for t, n in run.limits if t > 150) < AUTO_MAXIMUM


def test_a_rate_limit_bounds_it_the_same_way() -> None:
    """``--rate 100`` is, to the controller, a far end that takes 100 requests a second."""
    limit = ConcurrencyLimit()
    run = simulate(limit, FarEnd(per_second=100), seconds=30.0)

    assert run.throughput(10, 30) > 90
    assert run.mean_limit(10, 30) <= 16


def test_it_backs_off_on_429_and_settles_around_what_the_far_end_takes() -> None:
    far = FarEnd(max_concurrent=20, hold=0.1)
    limit = ConcurrencyLimit()
    run = simulate(limit, far, seconds=60.0)

    assert limit.overloads > 0
    assert 0.6 * 20 <= run.mean_limit(20, 60) <= 1.5 * 20
    assert limit.peak < AUTO_MAXIMUM
    assert run.refused < 0.1 * len(run.answered)  # probing the ceiling costs a few 429s
    assert run.throughput(20, 60) > 0.6 * 20 / 0.15


def test_one_round_trip_of_429s_cuts_it_once() -> None:
    limit = ConcurrencyLimit(64)
    limit.on_answer(0.0, 0.05)
    limit.on_answer(0.01, 0.05)
    for i in range(30):  # the answers to everything sent under the old limit
        limit.on_answer(0.02 + i * 0.001, 0.05, overload=True)

    assert limit.limit == 48
    limit.on_answer(0.2, 0.05, overload=True)  # a round trip later: still too many
    assert limit.limit == 36
    assert not limit.slow_start


def test_it_never_goes_below_one() -> None:
    limit = ConcurrencyLimit(2)
    for i in range(10):
        limit.on_answer(float(i), 0.05, overload=True)

    assert limit.limit == 1


def test_a_pinned_limit_never_moves() -> None:
    limit = ConcurrencyLimit(8, maximum=8, fixed=True)
    simulate(limit, FarEnd(max_concurrent=3), seconds=5.0)

    assert limit.limit == limit.peak == 8


def test_it_starts_at_the_documented_value() -> None:
    assert ConcurrencyLimit().limit == AUTO_INITIAL == 8
