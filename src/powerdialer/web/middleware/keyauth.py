"""Authenticate first: every request to a route that takes an API key has its key verified
before anything is spent on it.

``KeyAuthMiddleware`` sits outside everything that costs (idempotency claims and their body
spool, rate-limit buckets, body limits, the routes' body parsing, upload spooling): a request
to such a route whose key is missing, malformed, repeated or wrong is answered 401 (400 for a
repeated header) without one byte of its body being read, and nothing is counted against the
key's owner.  A verified request carries its identity in the ASGI scope
(``scope[SCOPE_KEY]``, a :class:`VerifiedKey`), and everything downstream — the compatible
endpoint, the rate limiter, the idempotency middleware, the routes' ``Authed`` dependency —
uses that instead of reading the headers again.

The check is the key's SHA-256 compared with ``hmac.compare_digest`` to the stored hash; an
unknown key id is compared with a dummy hash of the same length, so it costs what a wrong
secret costs.  The API reads the stored hash on every request (a revoked key is refused at
once).  The compatible endpoint, the hot path, keeps the stored hashes a short while
(:class:`KeyVerifier`) and still re-checks the key against the database in the transaction
that stores the row, so a revocation takes effect there at once too.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from powerdialer import keys
from powerdialer.errors import PowerDialerError
from powerdialer.projects import invalid_key
from powerdialer.storage import Store
from powerdialer.storage import projects as project_sql
from powerdialer.web.credentials import read_credentials
from powerdialer.web.responses import (
    Receive,
    Scope,
    Send,
    body_for,
    error_body,
    send_json,
    status_for,
)

SCOPE_KEY = "powerdialer.key"
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 10_000

Refusal = tuple[int, bytes, list[tuple[bytes, bytes]]]  # status, body, extra headers


def key_refused() -> Refusal:
    """The answer to a key that does not verify (unknown, revoked, wrong secret)."""
    return 401, body_for(invalid_key()), []


class Miss:
    """``KeyVerifier.verify_cached``'s answer when the key's hash is not cached."""


MISS = Miss()


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """Who a request is, once its key is verified."""

    project_id: int
    key_id: str
    secret_hash: str  # of the presented secret: the writer re-checks it when it stores


class KeyVerifier:
    """Verifies ``(project, key id, secret)`` against the stored hashes.

    With ``fresh=False`` (the hot path) a stored hash — or its absence — is kept
    ``CACHE_SECONDS`` per ``(project, key id)``, at most ``CACHE_ENTRIES`` of them (the least
    recently used go first), and concurrent misses for one key share one database read.  The
    comparison is never skipped: a cached hash is compared like a fresh one.
    """

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        ttl: float = CACHE_SECONDS,
        max_entries: int = CACHE_ENTRIES,
    ) -> None:
        self._store = store
        self.ttl = ttl
        self.max_entries = max_entries
        # (project, key id) -> (stored hash or None, when read, the VerifiedKey a match gives)
        self._cache: OrderedDict[tuple[int, str], tuple[str | None, float, VerifiedKey | None]] = (
            OrderedDict()
        )
        self._reads: dict[tuple[int, str], asyncio.Future[str | None]] = {}

    def verify_cached(
        self, project_id: int, key_id: str, secret: str, *, now: float | None = None
    ) -> VerifiedKey | Miss | None:
        """The hot path's check, with no await: the verified key or ``None`` when the key's
        stored hash is cached, else ``MISS`` (then ``await verify(..., fresh=False)``)."""
        now = time.monotonic() if now is None else now
        hit = self._cache.get((project_id, key_id))
        if hit is None or now - hit[1] >= self.ttl:
            return MISS
        # A match means the presented hash is the stored one: the cached VerifiedKey is it.
        return hit[2] if keys.hash_matches(keys.hash_secret(secret), hit[0]) else None

    async def verify(
        self,
        project_id: int,
        key_id: str,
        secret: str,
        *,
        fresh: bool = True,
        now: float | None = None,
    ) -> VerifiedKey | None:
        """The verified key, or ``None`` (unknown, revoked, another project's, wrong secret).
        Raises ``SQLAlchemyError`` when the database cannot be read."""
        if not fresh:
            found = self.verify_cached(project_id, key_id, secret, now=now)
            if not isinstance(found, Miss):
                return found
        presented = keys.hash_secret(secret)
        pair = (project_id, key_id)
        stored = await (self._read(pair) if fresh else self._cached(pair, now))
        if not keys.hash_matches(presented, stored):
            return None
        return VerifiedKey(project_id, key_id, presented)

    def forget(self, project_id: int, key_id: str) -> None:
        """Drop a key's cached hash (the writer found it revoked)."""
        self._cache.pop((project_id, key_id), None)

    async def _cached(self, pair: tuple[int, str], now: float | None) -> str | None:
        now = time.monotonic() if now is None else now
        hit = self._cache.get(pair)
        if hit is not None and now - hit[1] < self.ttl:
            self._cache.move_to_end(pair)
            return hit[0]
        reading = self._reads.get(pair)
        if reading is None:
            reading = asyncio.ensure_future(self._read(pair))
            self._reads[pair] = reading
            reading.add_done_callback(lambda _done: self._reads.pop(pair, None))
        stored = await asyncio.shield(reading)
        verified = VerifiedKey(*pair, stored) if stored is not None else None
        self._cache[pair] = (stored, now, verified)
        self._cache.move_to_end(pair)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return stored

    async def _read(self, pair: tuple[int, str]) -> str | None:
        store = self._store()
        found = await run_in_threadpool(
            store.read, lambda conn: project_sql.key_hashes(conn, {pair})
        )
        return found.get(pair)


class KeyAuth:
    """Which requests need a key, and the one way to verify it.

    Every path under ``prefix`` needs one except ``public`` ones (as the OpenAPI document
    declares: ``web.api.openapi.PUBLIC_PATHS``), whatever the method and whether or not a route
    answers it: a stranger learns nothing, not even which paths exist, and a route added under
    the prefix is covered from its first line.  ``hot_path`` is the compatible endpoint
    (POST only: it answers other methods 405 itself), whose keys go through the cache;
    so do the POST paths that ``cached`` matches (the dialer's next and outcome), whose
    writes check the key again in their transaction, as the compatible endpoint's do.  Every
    other request reads its key's hash fresh."""

    def __init__(
        self,
        verifier: KeyVerifier,
        *,
        prefix: str,
        public: Collection[str],
        hot_path: str,
        cached: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.verifier = verifier
        self.prefix = prefix
        self.public = frozenset(public)
        self.hot_path = hot_path
        self.cached = tuple(cached)

    def through_cache(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == self.hot_path:
            return True
        return scope["method"] == "POST" and any(p.fullmatch(path) for p in self.cached)

    def needs_key(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == self.hot_path:
            return bool(scope["method"] == "POST")
        return path.startswith(self.prefix) and path.rstrip("/") not in self.public

    async def identify(self, scope: Scope) -> VerifiedKey | Refusal:
        """The request's verified key, or the answer to send instead (status, body, headers)."""
        return await self.check(
            read_credentials(scope["headers"]), fresh=not self.through_cache(scope)
        )

    async def check(
        self, found: tuple[int, str, str] | PowerDialerError, *, fresh: bool
    ) -> VerifiedKey | Refusal:
        """Verify credentials as read from the headers (``fresh=False``: through the cache)."""
        if isinstance(found, PowerDialerError):
            return status_for(found), body_for(found), []
        project_id, key_id, secret = found
        try:
            verified = await self.verifier.verify(project_id, key_id, secret, fresh=fresh)
        except SQLAlchemyError:
            body = error_body(
                "storage_unavailable",
                "the database could not be read to check the key: nothing was done; retry shortly.",
            )
            return 503, body, [(b"retry-after", b"1")]
        if verified is None:
            return key_refused()
        return verified


class KeyAuthMiddleware:
    """Answers a request to a keyed route whose key does not verify, before anything else
    runs; puts the verified key in the scope for the rest."""

    def __init__(self, app: ASGIApp, auth: KeyAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.auth.needs_key(scope):
            found = await self.auth.identify(scope)
            if not isinstance(found, VerifiedKey):
                await send_json(send, *found)
                return
            scope[SCOPE_KEY] = found
        await self.app(scope, receive, send)
