"""The HTTP edge: what one ``powerdialer serve`` process lets a TCP peer hold.

uvicorn with httptools (the fastest server measured for the hot path, BENCHMARKS.md) has no
cap on a request head's size, no deadline for a head that is still arriving, and no cap on
open connections: 1,024 clients that connect and send half a head keep every file descriptor
of a default ``ulimit -n 1024`` process, after which nobody, ``/healthz`` included, gets in.
``EdgeProtocol`` is uvicorn's own httptools protocol with three additions:

- **head size**: a head (request line and headers) over ``max_head_bytes`` is answered
  ``431 Request Header Fields Too Large`` and the connection closed, before any route runs;
- **head deadline**: a connection must deliver a complete head within ``head_timeout``
  seconds of connecting (on a kept-alive connection: of the head's first bytes), however
  slowly it trickles: a byte every few seconds does not extend it; past that it gets ``408``
  (or, having sent nothing, is just closed).  Idle keep-alives are uvicorn's (5 s);
- **connection cap**: past ``max_connections`` open connections, a new one closes the
  connection that has waited longest for a head — half-sent heads and idle keep-alives, never
  one whose request is being served — so a real client always gets in and the process never
  runs out of file descriptors.  Only when every connection is busy with a request is the new
  one refused (``503``).

Connections waiting for a head are kept in one insertion-ordered dict (oldest first), which the
eviction and a sweep (a few times a second, checking deadlines) read from the front.  A request
that arrives whole in one chunk, the common case, never enters it: the cost on the hot path is
one method call and a few attribute reads a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from powerdialer.web.edge import EdgeLimits

logger = logging.getLogger("uvicorn.error")  # beside the server's own lines


class Edge:
    """The protocol factory uvicorn calls for each accepted connection (``Config.http``), and
    the state its connections share: one per serving process.  Picklable, so uvicorn's worker
    processes each get their own empty copy."""

    def __init__(self, limits: EdgeLimits) -> None:
        self.limits = limits
        # Connections waiting for a request head, oldest first (dicts keep insertion order).
        self.waiting: dict[EdgeProtocol, None] = {}
        self._sweeping = False
        self._warned_at = float("-inf")

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
        # Re-armed first: nothing below may stop the sweeping.
        loop.call_later(min(1.0, max(0.05, timeout / 4)), self._sweep, loop)
        deadline = loop.time() - timeout
        expired = []
        for protocol in self.waiting:
            if protocol.waiting_since > deadline:
                break  # the rest waited less: the dict is in order of waiting_since
            expired.append(protocol)
        for protocol in expired:
            protocol.head_timed_out()

    def evict_for(self, newcomer: EdgeProtocol) -> bool:
        """Make room for ``newcomer`` over the cap: close the connection that has waited
        longest for a head, else an idle kept-alive one.  False when there is none (every
        other connection has a request in progress)."""
        now = newcomer.loop.time()
        if now - self._warned_at > 60:  # at most a line a minute, however hard the flood
            self._warned_at = now
            logger.warning(
                "%d open connections, the cap (POWERDIALER_MAX_CONNECTIONS): closing those "
                "that have waited longest for a request head",
                self.limits.max_connections,
            )
        for protocol in self.waiting:
            if protocol is not newcomer:
                protocol.drop()
                return True
        for connection in newcomer.connections:
            if isinstance(connection, EdgeProtocol) and connection.is_idle():
                connection.drop()
                return True
        return False


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
    connection cap (see the module docstring).

    Only ``data_received`` is overridden on the per-request path, and it does a few attribute
    reads when a request arrives whole in one chunk (the common case): every override of a
    parser callback would be one more Python call a request."""

    edge: Edge
    waiting_since = 0.0
    _head_bytes = 0  # bytes of the current, incomplete head received so far
    _max_head = 0  # edge.limits.max_head_bytes, read once a connection
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        edge = self.edge
        self._max_head = edge.limits.max_head_bytes
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
        cycle = self.cycle
        # Between requests (none yet, or the last one's body complete) the bytes are a request
        # head; otherwise they are the current request's body, even when it was answered
        # early (a 413 before the whole body came): those bytes are no head to count.
        heading = cycle is None or not cycle.more_body
        if heading and self._head_bytes + len(data) > self._max_head:
            # This chunk may complete a head over the limit: refuse before the parser hands it
            # to the app (a request with a large body in the same chunk passes here).
            end = data.find(b"\r\n\r\n")
            if end < 0 or self._head_bytes + end > self._max_head:
                self._refuse(HEAD_TOO_LARGE)
                return
        HttpToolsProtocol.data_received(self, data)
        if self.cycle is not cycle:  # a head was completed
            if self._head_bytes or self in self.edge.waiting:
                self._head_bytes = 0
                self.edge.waiting.pop(self, None)
        elif heading and not self._refused:  # a head is still arriving
            self._head_bytes += len(data)
            if self not in self.edge.waiting:  # its first bytes on a kept-alive connection
                self.waiting_since = self.loop.time()
                self.edge.waiting[self] = None

    def is_idle(self) -> bool:
        """Kept alive between requests (evictable when no connection waits for a head)."""
        cycle = self.cycle
        return cycle is not None and cycle.response_complete and not self.pipeline

    def _refuse(self, answer: bytes) -> None:
        """Answer and stop parsing; the connection stays (dropping what it sends) until the
        client closes or its head deadline passes, so the answer is read, not reset."""
        self._refused = True
        if self not in self.edge.waiting:  # so the deadline sweep closes it in the end
            self.waiting_since = self.loop.time()
            self.edge.waiting[self] = None
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
