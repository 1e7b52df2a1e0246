"""A cap on request bodies, per route, in front of the FastAPI app (which has none of its own).

A body over the limit is answered 413 ``body_too_large`` in the one error shape: at once when
``Content-Length`` says so, else as soon as the bytes read exceed it (the rest is never read,
so a client cannot make the server buffer gigabytes).  The limits:

- the bulk rows path: ``settings.max_bulk_bytes``;
- file uploads — any path ending in ``/imports`` or ``/imports/preview``: the API's
  ``/power-dialer/campaigns/{id}/imports`` and ``/power-dialer/imports/preview``, and the web
  UI's upload forms — ``settings.max_upload_bytes``;
- the do-not-call CSV import (the API's ``/power-dialer/dnc/import``, the UI's
  ``/settings/dnc/import``): ``dnc_csv.MAX_IMPORT_BYTES`` (or ``settings.max_upload_bytes``
  if lower);
- the compatible endpoint: ``settings.max_body_bytes`` (it enforces that itself; listed here
  so the idempotency middleware, which reads bodies before any route does, applies it too);
- everything else: ``DEFAULT_BODY_BYTES`` (1 MiB: a campaign, a key, a settings form).
"""

from __future__ import annotations

import re

from powerdialer.dnc_csv import MAX_IMPORT_BYTES
from powerdialer.settings import Settings
from powerdialer.web.compat import PATH as COMPAT_PATH
from powerdialer.web.middleware.ratelimit import ASGIApp
from powerdialer.web.responses import Message, Receive, Scope, Send, error_body, send_json

DEFAULT_BODY_BYTES = 1024 * 1024
BULK_PATH = re.compile(r"/power-dialer/campaigns/[^/]+/rows/?")
# Uploads: /power-dialer/campaigns/{id}/imports, /power-dialer/imports/preview, and /ui/…: the
# web UI's upload and preview (powerdialer.web.ui.routes.imports).
DNC_IMPORT_PATHS = ("/power-dialer/dnc/import", "/settings/dnc/import")  # the API's, the UI's
IMPORTS_PATH = re.compile(r"(?:/[^/]+)*/imports(?:/preview)?/?")


def body_limit(settings: Settings, path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    if path == COMPAT_PATH:
        return settings.max_body_bytes
    if BULK_PATH.fullmatch(path):
        return settings.max_bulk_bytes
    if path.rstrip("/") in DNC_IMPORT_PATHS:
        return min(settings.max_upload_bytes, MAX_IMPORT_BYTES)
    if IMPORTS_PATH.fullmatch(path):
        return settings.max_upload_bytes
    return DEFAULT_BODY_BYTES


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def too_large_body(path: str, limit: int) -> bytes:
    hint = "send a smaller body"
    if BULK_PATH.fullmatch(path):
        hint = "split the rows into several requests"
    elif IMPORTS_PATH.fullmatch(path):
        hint = "split the file"
    return error_body(
        "body_too_large", f"the body is larger than {limit} bytes (the limit here): {hint}."
    )


class _TooLarge(Exception):
    """Raised into the app from ``receive`` once the body passes the limit."""


class BodyLimitMiddleware:
    """Wraps an ASGI app; answers 413 instead of letting it read past the route's limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = body_limit(self.settings, path)
        length = declared_length(scope)
        if length is not None and length > limit:
            await send_json(send, 413, too_large_body(path, limit))
            return
        state = {"read": 0, "over": False, "started": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["over"] = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                return  # the app's answer to the exception we raised: ours goes instead
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await send_json(send, 413, too_large_body(path, limit))
