"""What the sender keeps an eye on: counters, and which requests are on the wire."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from powerdialer.client import Request, Response
from powerdialer.client._transport import AsyncTransport

__all__ = ["Stopped", "Tally", "WireTracker"]


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

    def __init__(self, inner: AsyncTransport, tally: Tally) -> None:
        self.inner = inner
        self.tally = tally
        self.on_wire: set[asyncio.Task[object]] = set()

    async def handle(self, request: Request) -> Response:
        task = asyncio.current_task()
        if task is not None:
            self.on_wire.add(task)
        self.tally.requests += 1
        try:
            return await self.inner.handle(request)
        finally:
            if task is not None:
                self.on_wire.discard(task)

    async def aclose(self) -> None:
        await self.inner.aclose()
