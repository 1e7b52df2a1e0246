"""Fake PBXs on 127.0.0.1 for the telephony contract tests: a TCP server that plays a
recorded conversation (what a real Asterisk manager or FreeSWITCH event socket sends, as
documented and as captured from real servers) and keeps what the client sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Fake"], Awaitable[None]]


@dataclass
class Fake:
    port: int = 0
    received: list[str] = field(default_factory=list)  # each message the client sent

    async def message(self, reader: asyncio.StreamReader) -> str:
        """One message of the client's (lines up to an empty one), kept in ``received``."""
        lines = []
        while True:
            line = await reader.readline()
            if not line:
                break
            text = line.decode().rstrip("\r\n")
            if not text:
                if lines:
                    break
                continue
            lines.append(text)
        joined = "\n".join(lines)
        self.received.append(joined)
        return joined


@asynccontextmanager
async def fake_server(handler: Handler) -> AsyncIterator[Fake]:
    fake = Fake()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer, fake)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        await server.wait_closed()
