"""``Services``: what the routes and the middleware are handed, typed, in place of the whole
application object — the settings, the store, the group-commit writer, the import runner,
the WAL checkpointer (SQLite), the rate limiter, the export slots, the health check and the
live view's background "why not" counts (the dialer and the webhooks join them here).

``web/app.py`` makes one per application, starts it at the app's startup and stops it at
its shutdown; the API's routes get it through a dependency (``web.api.deps.ServicesDep``),
the UI's through their ``Page`` (``web.ui.pages``), the middleware as an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from powerdialer.dialer.explain_cache import ExplainCache
from powerdialer.health import HealthCheck
from powerdialer.importing.runner import ImportRunner
from powerdialer.models import utcnow
from powerdialer.settings import Settings
from powerdialer.storage import Store, open_store
from powerdialer.storage.checkpoint import Checkpointer
from powerdialer.storage.payload import Writes
from powerdialer.storage.writer import GroupCommitter
from powerdialer.web.exports import ExportSlots
from powerdialer.web.middleware.ratelimit import RateLimiter
from powerdialer.webhooks.sender import Sender, policy_of

if TYPE_CHECKING:
    from powerdialer.web.middleware.ratelimit_shared import SharedRateLimiter

T = TypeVar("T")


def limiter_for(settings: Settings) -> RateLimiter | SharedRateLimiter:
    """The per-process token bucket, or (``rate_limit_storage`` a Redis URL) the shared one."""
    rate, burst = settings.rate_limit_per_second, settings.rate_limit_burst
    if settings.rate_limit_storage == "memory":
        return RateLimiter(rate, burst)
    from powerdialer.web.middleware.ratelimit_shared import SharedRateLimiter

    return SharedRateLimiter(
        rate, burst, settings.rate_limit_storage, prefix=settings.rate_limit_prefix
    )


class NotMigrated(RuntimeError):
    pass


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = limiter_for(settings)
        self.exports = ExportSlots(settings.max_exports_per_key, settings.max_exports)
        self.health = HealthCheck(self)
        # The time the dialer's routes pass as ``now`` (leases, outcomes, explain): tests set
        # their ``clock`` fixture's here, so "ten minutes later" needs no sleep.
        self.clock: Callable[[], dt.datetime] = utcnow
        # The live view's "why not" counts, counted in the background (dialer/explain_cache.py).
        self.explains = ExplainCache()
        self._store: Store | None = None
        self._writer: GroupCommitter | None = None
        self._imports: ImportRunner | None = None
        self._checkpointer: Checkpointer | None = None
        self._webhooks: Sender | None = None

    @property
    def store(self) -> Store:
        return _started(self._store)

    @property
    def writer(self) -> GroupCommitter:
        """The group-commit writer (:mod:`powerdialer.storage.writer`): hot writes go here."""
        return _started(self._writer)

    @property
    def imports(self) -> ImportRunner:
        """This process's import jobs, run in the background."""
        return _started(self._imports)

    @property
    def webhooks(self) -> Sender:
        """The webhook sender (``webhooks.sender``); its loop runs if ``webhook_sender``."""
        return _started(self._webhooks)

    async def start(self, writes: Writes) -> None:
        """Open the store (refused unless migrated), start the writer with ``writes`` (each
        payload type and the function that applies it) and the import runner."""
        store = open_store(self.settings.database_url, migrate=False)
        if not store.is_migrated():
            store.dispose()
            raise NotMigrated("the database schema is not up to date: run `powerdialer migrate`")
        self._store = store
        self._writer = GroupCommitter(
            store.engine,
            writes,
            max_batch=self.settings.max_batch_rows,
            background_lane=store.engine.dialect.name == "postgresql",
            lanes=("dialer", "webhooks") if store.engine.dialect.name == "postgresql" else (),
        )
        self._writer.start()
        if Checkpointer.possible(store.engine):
            self._checkpointer = Checkpointer(store.engine)
            self._checkpointer.start()
        self._imports = ImportRunner(store, self._writer, self.settings)
        await self._imports.start()
        self._webhooks = Sender(
            store,
            self._writer,
            policy_of(self.settings.outbound_allow),
            retention=dt.timedelta(days=self.settings.webhook_retention_days),
        )
        if self.settings.webhook_sender:
            self._webhooks.start()

    async def stop(self) -> None:
        """Stop what :meth:`start` started, also after it failed midway."""
        if self._webhooks is not None:  # before the writer: it settles what it posted
            await self._webhooks.stop()
        if self._imports is not None:  # before the writer: running jobs still write
            await self._imports.stop()
        if self._writer is not None:
            await self._writer.stop()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.explains.close()
        if self._store is not None:
            self._store.dispose()
        if not isinstance(self.limiter, RateLimiter):
            await self.limiter.close()


def _started(part: T | None) -> T:
    if part is None:
        raise RuntimeError("the application has not started")
    return part
