"""The telemetry wrapper: in front of the whole application, installed only when metrics
or JSON request logs are on (``web/app.py``), so by default no request passes through it.

Per request it takes or makes a request id (``X-Request-ID``, echoed on the answer), times
the request, then counts it (metrics on) and logs one JSON line on ``powerdialer.access``
(``POWERDIALER_LOG_FORMAT=json``).  The line carries the time, the request id, the method,
the route template, the status, the latency and the verified key's project: never a header,
a query string, a body, a key or a cookie.  ``GET /metrics`` is answered here.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp

from powerdialer.settings import Settings
from powerdialer.telemetry.routes import METRICS_PATH, method_of, route_of
from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.responses import Message, Receive, Scope, Send, error_body, send_json

access_log = logging.getLogger("powerdialer.access")

REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_HEADER = b"x-request-id"


class Telemetry:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.metrics = None
        if settings.metrics:
            from powerdialer.telemetry.metrics import metrics

            self.metrics = metrics()
        self.token = settings.metrics_token.encode()
        self.log_json = settings.log_format == "json"
        if self.log_json:
            _ensure_handler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope["headers"])
        status = 500  # if the app fails before it answers
        echo = (_HEADER, request_id)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echo]}
            await send(message)

        try:
            if self.metrics is not None and scope["path"] == METRICS_PATH:
                await self._scrape(scope, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_of(scope), method_of(scope)
            if self.metrics is not None:
                self.metrics.request(route, method, status, seconds)
            if self.log_json:
                _log_line(scope, request_id, route, method, status, seconds)

    async def _scrape(self, scope: Scope, send: Send) -> None:
        assert self.metrics is not None
        if scope["method"] not in ("GET", "HEAD"):
            body = error_body("method_not_allowed", "/metrics is read with GET.")
            await send_json(send, 405, body, [(b"allow", b"GET")])
            return
        if self.token and not self._authorized(scope["headers"]):
            body = error_body(
                "unauthorized",
                "/metrics needs Authorization: Bearer <token>, the token being "
                "POWERDIALER_METRICS_TOKEN.",
                field="Authorization",
            )
            await send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        from powerdialer.telemetry.metrics import CONTENT_TYPE

        data = self.metrics.scrape()
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(data)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else data}
        )

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    given.strip(), self.token
                )
        return False


def _request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The caller's ``X-Request-ID`` if it is 1-64 of ``A-Z a-z 0-9 . _ -``, else a new one:
    16 random bytes in hex, as a uuid4's hex (``uuid.uuid4()`` costs five times as much)."""
    for name, value in headers:
        if name == _HEADER:
            if REQUEST_ID.fullmatch(value):
                return value
            break
    return secrets.token_hex(16).encode()


def _log_line(
    scope: Scope, request_id: bytes, route: str, method: str, status: int, seconds: float
) -> None:
    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": request_id.decode(),
        "method": method,
        "route": route,
        "status": status,
        "latency_ms": round(seconds * 1000, 3),
    }
    verified = scope.get(SCOPE_KEY)
    if isinstance(verified, VerifiedKey):
        line["project_id"] = verified.project_id
    access_log.info(orjson.dumps(line).decode())


def _ensure_handler() -> None:
    """The lines go to stderr, bare, unless the host has configured the logger (or the
    root logger) itself; uvicorn configures only its own.  The level is INFO unless set."""
    if access_log.level == logging.NOTSET:
        access_log.setLevel(logging.INFO)
    if access_log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
