"""The API's error answers: the same shape as the compatible endpoint's, so one client
parser serves both — ``{"result": false, "error": {"code", "message", "field"?, "reason"?}}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from powerdialer.errors import PowerDialerError
from powerdialer.storage.writer import StorageUnavailable
from powerdialer.web.responses import (
    RETRY_AFTER_SECONDS,
    error_body,
    error_payload,
    status_for,
    storage_failure,
    storage_unavailable_body,
)

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(exc: PowerDialerError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        error_payload(exc.code, exc.message, field=exc.field, reason=exc.reason),
        status_code=status_for(exc),
        headers=headers,
    )


def failure_response(exc: Exception) -> Response:
    """503 ``storage_unavailable`` with ``Retry-After`` for a :func:`storage_failure` (the
    writer could not commit, the database is down, the disk is full), else a logged 500
    ``internal_error`` in the same shape: never a bare 500."""
    reason = storage_failure(exc)
    if reason is not None:
        log.warning("storage unavailable: %s (%r)", reason, exc)
        uncertain = isinstance(exc, StorageUnavailable) and exc.uncertain
        return Response(
            storage_unavailable_body(reason, "it may or may not be stored")
            if uncertain
            else storage_unavailable_body(reason),
            status_code=503,
            media_type="application/json",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.error("unexpected error", exc_info=exc)
    body = error_body("internal_error", "the server failed on this request: retry, or report it.")
    return Response(body, status_code=500, media_type="application/json")


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(api: FastAPI) -> None:
    @api.exception_handler(PowerDialerError)
    async def domain_error(_request: Request, exc: PowerDialerError) -> JSONResponse:
        return error_response(exc)

    for kind in (StorageUnavailable, DBAPIError, OSError):
        api.add_exception_handler(kind, _failure)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
        field = _field_of(first.get("loc", ("body",)))
        if first.get("type") == "json_invalid":
            return JSONResponse(
                error_payload("malformed_json", "the body is not valid JSON: send a JSON object."),
                status_code=400,
            )
        message = f"{field}: {first.get('msg', 'invalid value')}; fix it and send again."
        return JSONResponse(
            error_payload("invalid_field", message, field=field, reason=str(first.get("type"))),
            status_code=422,
        )

    @api.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_payload(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )


async def _failure(_request: Request, exc: Exception) -> Response:
    return failure_response(exc)
