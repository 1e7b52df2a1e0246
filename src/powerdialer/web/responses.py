"""The one error shape of the compatible surface, built here and pinned by a test:
``{"result": false, "error": {"code", "message", "field"?, "reason"?}}`` — clients that only
test ``result`` keep working, and the rest get a machine code and a sentence naming the fix."""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError, OperationalError

from powerdialer.errors import AuthError, Conflict, NotFound, PowerDialerError, ValidationError
from powerdialer.storage.writer import StorageUnavailable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SUCCESS_BODY = b'{"result":true}'
JSON_HEADERS = [(b"content-type", b"application/json")]
RETRY_AFTER_SECONDS = 1
RETRY_AFTER = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
# What a full, over-quota or read-only disk raises: the server's trouble, not the client's.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


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
    if exc.code == "form_too_large":  # a multipart form past its caps (web.uploads)
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


def storage_failure(exc: BaseException) -> str | None:
    """Why ``exc`` means "could not store now, retry" — the writer's ``StorageUnavailable``, a
    database that is down or full, a full disk under an upload — or ``None`` if it is no such
    failure.  Every surface answers these with :func:`storage_unavailable_body`."""
    if isinstance(exc, StorageUnavailable):
        return str(exc)
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError)
        and (exc.connection_invalidated or _unavailable_state(getattr(exc.orig, "sqlstate", None)))
    ):
        return "the database is unavailable"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return f"the server could not write to its disk ({exc.strerror or 'I/O error'})"
    return None


def _unavailable_state(sqlstate: str | None) -> bool:
    """PostgreSQL's codes for "not now" rather than "not this": a read-only transaction (a
    fail-over onto a standby), insufficient resources (disk full), a connection lost, the
    server shutting down."""
    if not sqlstate:
        return False
    return sqlstate == "25006" or sqlstate[:2] in ("08", "53", "57")


def storage_unavailable_body(reason: str, consequence: str = "nothing was stored") -> bytes:
    """The one 503 answer (sent with :data:`RETRY_AFTER`) for any :func:`storage_failure`."""
    return error_body(
        "storage_unavailable",
        f"{reason}: {consequence}; retry in {RETRY_AFTER_SECONDS} s (Retry-After).",
    )
