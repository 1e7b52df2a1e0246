"""The idempotency middleware's ASGI plumbing: a request body spooled (in memory, past
``_SPOOL_BYTES`` on disk) while it is hashed, then handed to the app again; and the app's
answer held until it is kept, or streamed on once it is too big to keep."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

import orjson

from powerdialer.web.responses import Message, Receive, Send

_SPOOL_BYTES = 1024 * 1024  # request bodies beyond this wait on disk, not in memory
_CHUNK = 64 * 1024
_KEPT_HEADERS = (b"content-type", b"location")


class Capture:
    """Holds the app's answer until it is saved; past ``keep_bytes`` it streams on."""

    def __init__(self, send: Send, keep_bytes: int) -> None:
        self.downstream = send
        self.keep_bytes = keep_bytes
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.streaming = False
        self.complete = False

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        if self.streaming:
            await self.downstream(message)
        elif message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.size += len(self.chunks[-1])
            if self.size > self.keep_bytes:
                self.streaming = True
                await self.flush(more=not self.complete)
        else:
            await self.downstream(message)

    async def flush(self, *, more: bool = False) -> None:
        if self.start is None:
            return
        await self.downstream(self.start)
        body, self.chunks = b"".join(self.chunks), []
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})

    def kept_headers(self) -> str:
        headers = self.start.get("headers", []) if self.start else []
        kept = [
            [n.decode("latin-1"), v.decode("latin-1")] for n, v in headers if n in _KEPT_HEADERS
        ]
        return orjson.dumps(kept).decode()


async def spool_body(receive: Receive, limit: int) -> tuple[IO[bytes], int, str] | str:
    """Spool the body while hashing it: ``(file, size, sha256)``, or "too_large" /
    "disconnect"."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed by caller)
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            spool.close()
            return "disconnect"
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            spool.close()
            return "too_large"
        digest.update(chunk)
        spool.write(chunk)
        if not message.get("more_body", False):
            spool.seek(0)
            return spool, size, digest.hexdigest()


def replaying(spool: IO[bytes], size: int, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the spooled body, then defers to the real one (which
    reports the client's disconnect)."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(_CHUNK)
        done = spool.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay
