"""The API's error answers: the same shape as the compatible endpoint's, so one client
parser serves both — ``{"result": false, "error": {"code", "message", "field"?, "reason"?}}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from powerdialer.errors import PowerDialerError
from powerdialer.web.responses import error_payload, status_for

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


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(api: FastAPI) -> None:
    @api.exception_handler(PowerDialerError)
    async def domain_error(_request: Request, exc: PowerDialerError) -> JSONResponse:
        return error_response(exc)

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
