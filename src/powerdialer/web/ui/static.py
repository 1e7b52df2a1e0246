"""Static files (CSS, JS, the vendored licence) with the UI's security headers.  URLs carry
a content hash (``?v=``), so browsers may cache them for a long time."""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles

from powerdialer.web.responses import Message, Receive, Scope, Send
from powerdialer.web.ui.security import SECURITY_HEADERS


class StaticAssets:
    def __init__(self, directory: Path) -> None:
        self.files = StaticFiles(directory=directory)
        extra = {**SECURITY_HEADERS, "cache-control": "public, max-age=86400"}
        self.headers = [(k.encode(), v.encode()) for k, v in extra.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.files(scope, receive, with_headers)
