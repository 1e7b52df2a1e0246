"""``create_app(settings)``: the ASGI application.

One outer callable routes the vendor-compatible path straight to its raw handler and
everything else to FastAPI; it owns the lifespan (the store and the group-commit writer).
"""

from __future__ import annotations

import contextlib
import gc
import logging

from starlette.types import ASGIApp

from powerdialer import bulk, rows
from powerdialer.errors import ValidationError
from powerdialer.importing import jobs
from powerdialer.importing.runner import ImportRunner
from powerdialer.phones import normalize_phone
from powerdialer.settings import Settings
from powerdialer.storage import Store, open_store
from powerdialer.storage.payload import merge_writes
from powerdialer.storage.writer import GroupCommitter
from powerdialer.web import compat, idempotency
from powerdialer.web.api import build_api
from powerdialer.web.api.openapi import PUBLIC_PATHS
from powerdialer.web.bodylimit import BodyLimitMiddleware
from powerdialer.web.cors import ApiCors
from powerdialer.web.exports import ExportSlots
from powerdialer.web.idempotency import IdempotencyMiddleware
from powerdialer.web.keyauth import KeyAuth, KeyAuthMiddleware, KeyVerifier
from powerdialer.web.ratelimit import RateLimiter, RateLimitMiddleware
from powerdialer.web.responses import Receive, Scope, Send
from powerdialer.web.textguard import NulGuardMiddleware

log = logging.getLogger(__name__)

WRITES = merge_writes(rows.WRITES, bulk.WRITES, jobs.WRITES, idempotency.WRITES)
"""Every package's writes (``storage/payload.py``): what the app's one writer applies."""


class NotMigrated(RuntimeError):
    pass


class PowerDialerApp:
    def __init__(self, settings: Settings, *, freeze_gc: bool = False) -> None:
        self.settings = settings
        # The server process freezes its long-lived objects after startup (see below); an
        # app built for a test or embedded elsewhere leaves the host's GC alone.
        self.freeze_gc = freeze_gc
        self._store: Store | None = None
        self._committer: GroupCommitter | None = None
        self._compat: compat.CompatEndpoint | None = None
        self.imports: ImportRunner | None = None  # import jobs; set up at startup
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.exports = ExportSlots(settings.max_exports_per_key, settings.max_exports)
        self.api = build_api(self)
        self.keyauth = KeyAuth(
            KeyVerifier(lambda: self.store),
            prefix="/power-dialer/",
            public=PUBLIC_PATHS,
            hot_path=compat.PATH,
        )
        self._api_asgi = RateLimitMiddleware(
            BodyLimitMiddleware(NulGuardMiddleware(self.api), settings), self.limiter
        )
        # Authentication first: nothing below spends on a request whose key does not verify.
        entry: ASGIApp = KeyAuthMiddleware(IdempotencyMiddleware(self._route, self), self.keyauth)
        if settings.cors_origins:  # off by default: no wrapper on the hot path
            entry = ApiCors(entry, settings.cors_origins)
        self._entry = entry

    @property
    def committer(self) -> GroupCommitter:
        if self._committer is None:
            raise RuntimeError("the application has not started")
        return self._committer

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the application has not started")
        return self._store

    async def startup(self) -> None:
        store = open_store(self.settings.database_url, migrate=False)
        if not store.is_migrated():
            store.dispose()
            raise NotMigrated("the database schema is not up to date: run `powerdialer migrate`")
        self._store = store
        self._committer = GroupCommitter(
            store.engine, WRITES, max_batch=self.settings.max_batch_rows
        )
        self._committer.start()
        self._compat = compat.CompatEndpoint(
            self.settings, self._committer, self.limiter, self.keyauth
        )
        self.imports = ImportRunner(store, self._committer, self.settings)
        await self.imports.start()
        if self.freeze_gc:
            _freeze_long_lived_objects(self.settings.default_region)

    async def shutdown(self) -> None:
        if self.freeze_gc:
            gc.unfreeze()
        if self.imports is not None:  # before the writer: running jobs still write
            await self.imports.stop()
        if self._committer is not None:
            await self._committer.stop()
        if self._store is not None:
            self._store.dispose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._entry(scope, receive, send)

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
