"""A stand-in for the *remote vendor* (Ringostat's compatible endpoint), for the behaviours a
real local server will not show on demand: 429 and 503 in bursts, slowness, error bodies in
unknown shapes.  A real aiohttp server on 127.0.0.1, in a thread of the test process, so a
test can script its answers and read what it received (with arrival times).

It only imitates the wire: ``{"result": true}`` for a valid-looking row, and it remembers the
numbers it "stored" so a test can check that each arrived exactly once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATH = "/power-dialer/campaigns/campaign-rows"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"result": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    store: bool = True  # whether this answer means the row was stored


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    body: dict[str, Any]
    headers: dict[str, str]


Script = Callable[[int, dict[str, Any]], Answer | None]


class FakeVendor:
    def __init__(
        self, script: Script | None = None, *, key: str = "vendor-key", policy: str | None = None
    ) -> None:
        self.script = script
        self.key = key
        self.policy = policy  # set: also answer /limits and the campaign, as powerdialer does
        self.received: list[Received] = []
        self.stored: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.limits_requests = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeVendor:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _not_found(self, request: web.Request) -> web.Response:
        if request.path == "/power-dialer/limits":
            self.limits_requests += 1
            if self.policy:
                return web.json_response({"bulk_max_rows": 10, "bulk_max_bytes": 1 << 20,
                                          "body_max_bytes": 16384, "rate_limit_per_second": 0,
                                          "rate_limit_burst": 0})  # fmt: skip
        if self.policy and request.path.startswith("/power-dialer/campaigns/"):
            campaign = request.path.rsplit("/", 1)[-1]
            return web.json_response({"id": int(campaign), "name": "Leads", "state": "active",
                                      "duplicate_policy": self.policy})  # fmt: skip
        # The vendor's 404 for paths it does not have: HTML, not our error shape.
        return web.Response(status=404, text="<html><body>Not Found</body></html>",
                            content_type="text/html")  # fmt: skip

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        index = len(self.received)
        self.received.append(Received(arrived, body, dict(request.headers)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self.script(index, body) if self.script else None
            if answer is None:
                if request.headers.get("Auth-key") != self.key:
                    answer = Answer(
                        401, b'{"status":"error","message":"Unauthorized"}', store=False
                    )
                else:
                    answer = Answer()
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.store and answer.status == 200:
                self.stored[str(body.get("phone_number"))] += 1
            return web.Response(
                status=answer.status, body=answer.body, headers=answer.headers,
                content_type="application/json" if answer.body.startswith(b"{") else "text/html",
            )  # fmt: skip
        finally:
            self.in_flight -= 1
