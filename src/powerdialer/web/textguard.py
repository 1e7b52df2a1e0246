"""Refuse a NUL in the URL (path or query) before any route sees it.

PostgreSQL cannot take NUL in a text parameter, and no filter, cursor or id ever needs one;
refusing it here, once, keeps every query parameter of every route (API and UI) from turning
into a 5xx on PostgreSQL while SQLite would have accepted it.  Bodies are cleaned where they
are parsed (``powerdialer.text.one_line``).
"""

from __future__ import annotations

from powerdialer.web.ratelimit import ASGIApp
from powerdialer.web.responses import Receive, Scope, Send, error_body, send_json


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
                await send_json(
                    send,
                    400,
                    error_body(
                        "invalid_text",
                        "the URL contains a NUL character (%00): remove it from the path "
                        "and the query parameters.",
                    ),
                )
                return
        await self.app(scope, receive, send)
