"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it answers each POST with the
next status of its script (then 200), records what it got, and deduplicates by
``webhook-id`` the way a receiver should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    script: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)  # every request, failed ones too
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def accepted(self) -> list[Received]:
        """Requests answered 2xx, each event id once (the receiver's deduplication)."""
        seen: dict[str, Received] = {}
        for r in self.got:
            if r.headers.get("_status", "200").startswith("2"):
                seen.setdefault(r.headers["webhook-id"], r)
        return list(seen.values())

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        answer = self.script.pop(0) if self.script else 200
        status, extra = answer if isinstance(answer, tuple) else (answer, {})
        headers["_status"] = str(status)
        self.got.append(Received(headers, body))
        text = b"ok" if status < 300 else b"nope " * 400  # > 1 KiB: the log keeps 1 KiB
        out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(text)}", "Connection: close"]
        out += [f"{k}: {v}" for k, v in extra.items()]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + text)
        await writer.drain()
        writer.close()


@asynccontextmanager
async def receiver(*script: int | tuple[int, dict[str, str]]) -> AsyncIterator[Receiver]:
    r = Receiver(list(script))
    server = await asyncio.start_server(r.handle, "127.0.0.1", 0)
    r.port = server.sockets[0].getsockname()[1]
    try:
        yield r
    finally:
        server.close()
        await server.wait_closed()
