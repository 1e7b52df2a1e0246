"""``create_app(settings)``: the ASGI application.

One outer callable routes the vendor-compatible path straight to its raw handler and
everything else to FastAPI (the API and, beside it on the same app, the web UI), behind the
middleware (:mod:`powerdialer.web.middleware`).  It owns the lifespan: the
:class:`~powerdialer.web.services.Services` the routes are handed start and stop with it.
"""

from __future__ import annotations

import contextlib
import gc
import logging

from starlette.types import ASGIApp

from powerdialer.dialer import leasing, presence, queue, wrapup
from powerdialer.errors import ValidationError
from powerdialer.importing import jobs, leases, stored_uploads
from powerdialer.phones import normalize_phone
from powerdialer.rows import intake, write
from powerdialer.settings import Settings
from powerdialer.storage.payload import merge_writes
from powerdialer.telemetry import hooks
from powerdialer.telemetry.middleware import Telemetry
from powerdialer.telephony import settings as telephony_settings
from powerdialer.web import compat, dialer_edge, ui
from powerdialer.web.api import build_api
from powerdialer.web.api.openapi import PUBLIC_PATHS
from powerdialer.web.middleware import idempotency_rows, idempotency_writes
from powerdialer.web.middleware.bodylimit import BodyLimitMiddleware
from powerdialer.web.middleware.cors import ApiCors
from powerdialer.web.middleware.idempotency import IdempotencyMiddleware
from powerdialer.web.middleware.keyauth import KeyAuth, KeyAuthMiddleware, KeyVerifier
from powerdialer.web.middleware.ratelimit import RateLimitMiddleware
from powerdialer.web.middleware.textguard import NulGuardMiddleware
from powerdialer.web.responses import Receive, Scope, Send
from powerdialer.web.services import Services
from powerdialer.webhooks import deliveries

log = logging.getLogger(__name__)

WRITES = merge_writes(
    intake.WRITES,
    write.WRITES,
    telephony_settings.WRITES,
    jobs.WRITES,
    leases.WRITES,
    stored_uploads.WRITES,
    idempotency_writes.WRITES,
    idempotency_rows.WRITES,
    queue.WRITES,
    leasing.WRITES,
    wrapup.WRITES,
    presence.WRITES,
    deliveries.WRITES,
)
"""Every package's writes (``storage/payload.py``): what the app's one writer applies."""


class PowerDialerApp:
    def __init__(self, settings: Settings, *, freeze_gc: bool = False) -> None:
        self.settings = settings
        # The server process freezes its long-lived objects after startup (see below); an
        # app built for a test or embedded elsewhere leaves the host's GC alone.
        self.freeze_gc = freeze_gc
        self.services = services = Services(settings)
        self._compat: compat.CompatEndpoint | None = None
        # The compatible endpoint when nothing wraps the application (no CORS): then
        # ``__call__`` hands the hot path to it directly.
        self._direct_compat: compat.CompatEndpoint | None = None
        self.api = build_api(services)
        ui.install(self.api, services)  # the web UI: server-rendered pages on the same app
        self.keyauth = KeyAuth(
            KeyVerifier(lambda: services.store),
            prefix="/power-dialer/",
            public=PUBLIC_PATHS,
            hot_path=compat.PATH,
            cached=(dialer_edge.NEXT, dialer_edge.OUTCOME),  # their writes check it again
        )
        # The operator's next and outcome calls skip the framework (``web/dialer_edge.py``).
        self.dialer_edge = dialer_edge.DialerEdge(self.api, services, self.keyauth.verifier.forget)
        self._api_asgi = RateLimitMiddleware(
            BodyLimitMiddleware(NulGuardMiddleware(self.dialer_edge), settings),
            services.limiter,
        )
        # Authentication first: nothing below spends on a request whose key does not verify.
        # The compatible endpoint, the hot path, is sent straight from the front door and
        # checks its key itself, first (a middleware and a header pass fewer per row).
        self.idempotency = IdempotencyMiddleware(self._route, services)
        self._keyed: ASGIApp = KeyAuthMiddleware(self.idempotency, self.keyauth)
        entry: ASGIApp = self._front
        if settings.cors_origins:  # off by default: no wrapper on the hot path
            entry = ApiCors(entry, settings.cors_origins)
        # Metrics and request logs (off by default): then every request, the compatible
        # endpoint's too, passes through the telemetry wrapper (docs/metrics.md).
        self._telemetry = settings.metrics or settings.log_format == "json"
        if self._telemetry:
            entry = Telemetry(entry, settings)
        self._entry = entry

    async def startup(self) -> None:
        services = self.services
        await services.start(WRITES)
        self._compat = compat.CompatEndpoint(
            self.settings, services.writer, services.limiter, self.keyauth, self.idempotency
        )
        if not self.settings.cors_origins and not self._telemetry:
            self._direct_compat = self._compat
        if self.settings.metrics:
            from powerdialer.telemetry.metrics import metrics

            hooks.active = metrics()
        if self.freeze_gc:
            _freeze_long_lived_objects(self.settings.default_region)

    async def shutdown(self) -> None:
        if self.freeze_gc:
            gc.unfreeze()
        await self.services.stop()
        if self.settings.metrics:
            from powerdialer.telemetry.metrics import process_exits

            hooks.active = None
            process_exits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The compatible path first, with no frame between: it is the hot path.
        if scope["type"] == "http" and scope["path"] == compat.PATH and self._direct_compat:
            await self._direct_compat(scope, receive, send)  # checks the key itself, first
        else:
            await self._entry(scope, receive, send)

    async def _front(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == compat.PATH and self._compat:
            await self._compat(scope, receive, send)  # checks the key itself, first
        else:
            await self._keyed(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == compat.PATH and self._compat:
            await self._compat(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._api_asgi(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _freeze_long_lived_objects(region: str) -> None:
    """Move everything loaded so far (routes, templates, catalogs, phone metadata) out of the
    garbage collector's sight.  They live as long as the process, yet every full collection
    would walk them again while the hot path allocates; freezing them measured +12 % rows/s
    on the compatible endpoint (BENCHMARKS.md).  The phone metadata of the default region is
    loaded first so it is frozen too."""
    with contextlib.suppress(ValidationError):
        normalize_phone("+380930000000", region)
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *, freeze_gc: bool = False) -> PowerDialerApp:
    return PowerDialerApp(settings, freeze_gc=freeze_gc)


def app_from_env() -> PowerDialerApp:
    """Factory for ``uvicorn --factory`` (and ``serve --workers N``): settings from the
    environment, read when a worker starts, not at import."""
    return create_app(Settings.from_env(), freeze_gc=True)
