"""The one error shape of the compatible surface, built here and pinned by a test:
``{"result": false, "error": {"code", "message", "field"?, "reason"?}}`` — clients that only
test ``result`` keep working, and the rest get a machine code and a sentence naming the fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from powerdialer.errors import AuthError, Conflict, NotFound, PowerDialerError, ValidationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SUCCESS_BODY = b'{"result":true}'
JSON_HEADERS = [(b"content-type", b"application/json")]


def status_for(exc: PowerDialerError) -> int:
    """The HTTP status of a domain error, the same on every surface (compatible and API)."""
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if exc.code in ("malformed_json", "invalid_body"):
        return 400
    if exc.code == "form_too_large":  # a multipart form past its caps (web.api.imports)
        return 413
    if isinstance(exc, ValidationError):
        return 422
    return 400


def error_payload(
    code: str, message: str, *, field: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    if reason is not None:
        error["reason"] = reason
    return {"result": False, "error": error}


def error_body(
    code: str, message: str, *, field: str | None = None, reason: str | None = None
) -> bytes:
    return orjson.dumps(error_payload(code, message, field=field, reason=reason))


def body_for(exc: PowerDialerError) -> bytes:
    return error_body(exc.code, exc.message, field=exc.field, reason=exc.reason)


async def send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    all_headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if headers:
        all_headers.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
