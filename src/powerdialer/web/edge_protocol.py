"""The HTTP edge: what one ``powerdialer serve`` process lets a TCP peer hold.

uvicorn with httptools (the fastest server measured for the hot path, BENCHMARKS.md) has no
cap on a request head's size, no deadline for a head that is still arriving, and no cap on
open connections: 1,024 clients that connect and send half a head keep every file descriptor
of a default ``ulimit -n 1024`` process, after which nobody, ``/healthz`` included, gets in.
``EdgeProtocol`` is uvicorn's own httptools protocol with three additions:

- **head size**: a head (request line and headers) over ``max_head_bytes`` is answered
  ``431 Request Header Fields Too Large`` and the connection closed, before any route runs;
- **head deadline**: a connection must deliver a complete head within ``head_timeout``
  seconds of connecting or of its previous response (the whole head, however slowly it
  trickles: a byte every few seconds does not extend it); past that it gets ``408`` (or,
  having sent nothing, is just closed);
- **connection cap**: past ``max_connections`` open connections, a new one closes the
  connection that has waited longest for a head — half-sent heads and idle keep-alives, never
  one whose request is being served — so a real client always gets in and the process never
  runs out of file descriptors.  Only when every connection is busy with a request is the new
  one refused (``503``).

The cost on the hot path is a few dictionary operations a request: connections waiting for a
head are kept in one insertion-ordered dict (oldest first), which the eviction and a sweep
(a few times a second, checking deadlines) read from the front.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from powerdialer.web.edge import EdgeLimits
from powerdialer.web.responses import Receive, Scope, Send

logger = logging.getLogger("powerdialer.edge")


class Edge:
    """The protocol factory uvicorn calls for each accepted connection (``Config.http``), and
    the state its connections share: one per serving process.  Picklable, so uvicorn's worker
    processes each get their own empty copy."""

    def __init__(self, limits: EdgeLimits) -> None:
        self.limits = limits
        # Connections waiting for a request head, oldest first (dicts keep insertion order).
        self.waiting: dict[EdgeProtocol, None] = {}
        self._sweeping = False

    def __getstate__(self) -> dict[str, Any]:
        return {"limits": self.limits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["limits"])  # type: ignore[misc]

    def __call__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> EdgeProtocol:
        protocol = EdgeProtocol(config, server_state, app_state, _loop)
        protocol.edge = self
        if not self._sweeping:
            self._sweeping = True
            self._sweep(protocol.loop)
        return protocol

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close every connection whose head deadline has passed, then come back."""
        timeout = self.limits.head_timeout
        deadline = loop.time() - timeout
        expired = []
        for protocol in self.waiting:
            if protocol.waiting_since > deadline:
                break  # the rest waited less: the dict is in order of waiting_since
            expired.append(protocol)
        for protocol in expired:
            protocol.head_timed_out()
        loop.call_later(min(1.0, max(0.05, timeout / 4)), self._sweep, loop)

    def evict_for(self, newcomer: EdgeProtocol) -> bool:
        """Make room for ``newcomer`` over the cap: close the connection that has waited
        longest for a head.  False when there is none (every other connection is busy)."""
        for protocol in self.waiting:
            if protocol is not newcomer:
                protocol.drop()
                return True
        return False


async def _head_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    body = b"Request header fields too large"
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _plain(status: bytes, text: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\n" + extra + b"connection: close"
        b"\r\n\r\n" + text
    )


HEAD_TOO_LARGE = _plain(b"431 Request Header Fields Too Large", b"Request header fields too large")
HEAD_TIMEOUT = _plain(b"408 Request Timeout", b"The request head did not arrive in time")
BUSY = _plain(b"503 Service Unavailable", b"Too many connections", b"retry-after: 1\r\n")


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head size cap, a head deadline and a place in the
    connection cap (see the module docstring)."""

    edge: Edge
    waiting_since = 0.0
    _head_bytes = 0  # bytes of the current head seen in earlier chunks
    _chunk_bytes = 0  # the size of the chunk being parsed
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        edge = self.edge
        self.waiting_since = self.loop.time()
        edge.waiting[self] = None
        if len(self.connections) > edge.limits.max_connections and not edge.evict_for(self):
            self._refuse(BUSY)

    def connection_lost(self, exc: Exception | None) -> None:
        self.edge.waiting.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped, so the client's send completes and it reads our answer
        self._chunk_bytes = len(data)
        super().data_received(data)
        if self in self.edge.waiting and not self._refused:
            # The head is still incomplete after this chunk (httptools buffers a partial header
            # itself, so count what arrived, not what the parser handed over).
            self._head_bytes += len(data)
            if self._head_bytes > self.edge.limits.max_head_bytes:
                self._refuse(HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self.edge.waiting.pop(self, None)
        limit = self.edge.limits.max_head_bytes
        seen, self._head_bytes = self._head_bytes, 0
        # Only a head that may be over the limit is measured (the common one is one small chunk).
        if seen + self._chunk_bytes > limit and self._head_size() > limit:
            app = self.app
            self.app = _head_too_large  # answered through uvicorn's cycle, then closed
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        idle = not self.pipeline
        super().on_response_complete()
        if idle and not self.transport.is_closing():
            self.waiting_since = self.loop.time()
            self.edge.waiting[self] = None

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse(self, answer: bytes) -> None:
        """Answer and stop parsing; the connection stays (dropping what it sends) until the
        client closes or its head deadline passes, so the answer is read, not reset."""
        self._refused = True
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        else:
            self.transport.close()

    def head_timed_out(self) -> None:
        if self._head_bytes and not self._refused:
            self.transport.write(HEAD_TIMEOUT)
        self.drop()

    def drop(self) -> None:
        self.edge.waiting.pop(self, None)
        self.transport.close()
