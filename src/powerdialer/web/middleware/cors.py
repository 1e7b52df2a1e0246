"""Cross-origin calls to the API from a browser (CORS), for CRMs whose widgets run in the
user's browser (Bitrix24 and amoCRM apps, an in-house admin page): off unless origins are
configured (``POWERDIALER_CORS_ORIGINS``).

Only the API answers them (``/power-dialer/…``, the compatible endpoint included); the web
UI, which signs in with a cookie, never does, and no credentials (cookies) are allowed
cross-origin: a browser call authenticates with ``x-project-id`` and ``Auth-key`` like any
other.  Preflight requests are answered here, before authentication, rate limits and
idempotency.  The work is Starlette's ``CORSMiddleware``; a request without an ``Origin``
header passes straight through.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/power-dialer/"
ALLOW_HEADERS = ("x-project-id", "auth-key", "content-type", "idempotency-key")
EXPOSE_HEADERS = (
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
    "idempotent-replayed",
    "location",
    "content-disposition",
)
METHODS = ("GET", "POST", "PATCH", "DELETE")


class ApiCors:
    """``app`` with CORS for the API's paths, as configured; the rest untouched."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=METHODS,
            allow_headers=ALLOW_HEADERS,
            expose_headers=EXPOSE_HEADERS,
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
