"""What the sender keeps an eye on: counters, which requests are on the wire, and how the
far end answers (round trips and overload signals, for the concurrency limit)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from powerdialer.client import AsyncTransport, Request, Response
from powerdialer.fill._limit import ConcurrencyLimit

__all__ = ["OVERLOAD_STATUSES", "Slots", "Stopped", "Tally", "WireTracker"]

OVERLOAD_STATUSES = frozenset({429, 503})


@dataclass(slots=True)
class Tally:
    """Live counters of this session."""

    requests: int = 0
    retried: int = 0
    acked: int = 0
    rejected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class Stopped(Exception):
    """Raised from the retry hook once the fill is stopping: give the row up for now."""


class WireTracker:
    """Wraps the transport to know which tasks have a request on the wire (those are let
    finish when stopping) and to count requests."""

    def __init__(
        self,
        inner: AsyncTransport,
        tally: Tally,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.tally = tally
        self.clock = clock
        self.on_wire: set[asyncio.Task[object]] = set()
        self.limit: ConcurrencyLimit | None = None  # told how every request went
        self.on_change: Callable[[], None] = lambda: None  # after each observation

    async def handle(self, request: Request) -> Response:
        task = asyncio.current_task()
        if task is not None:
            self.on_wire.add(task)
        self.tally.requests += 1
        limit = self.limit
        started = self.clock()
        if limit is not None:
            limit.on_send(started)
        answered = False
        try:
            response = await self.inner.handle(request)
            answered = True
        finally:
            if task is not None:
                self.on_wire.discard(task)
            if limit is not None:
                now = self.clock()
                if answered:
                    overload = response.status in OVERLOAD_STATUSES
                    limit.on_answer(now, now - started, overload=overload)
                else:
                    limit.on_lost(now)
                self.on_change()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class Slots:
    """At most ``limit.limit`` holders at once, the limit read afresh at every release and
    :meth:`wake` (it may change while tasks wait).  Waiters are served in order."""

    def __init__(self, limit: ConcurrencyLimit) -> None:
        self.limit = limit
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_use < self.limit.limit and not self._waiters:
            self.in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_use -= 1
        self.wake()

    def wake(self) -> None:
        while self._waiters and self.in_use < self.limit.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)
