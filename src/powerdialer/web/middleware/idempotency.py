"""``Idempotency-Key`` on every POST: a retried request is answered, not carried out again.

The first request with a key (per project) runs; its answer (status, body, content type) is
kept ``settings.idempotency_ttl_hours`` and replayed byte for byte, with
``Idempotent-Replayed: true``, to every later request with the same key and the same request
(method, path, query and body SHA-256).  The same key with another request is refused (422
``idempotency_key_reused``); while the first still runs, 409 ``idempotency_in_progress`` with
``Retry-After``.  Only final answers are kept — 2xx and 4xx other than 401, 403, 408, 409,
423, 425 and 429 — so retrying an auth failure, a rate limit, a conflict of state or a 5xx
acts again.  The middleware runs after ``web.middleware.keyauth.KeyAuthMiddleware``: a request
whose API key does not verify is answered before its body is spooled or a key claimed.  The
claim checks the key once more in its transaction (``projects.authenticate``), so a replay
never reaches a caller whose key was revoked meanwhile (:mod:`.idempotency_writes`).

Answers over ``REPLAY_MAX_BYTES`` are passed through as they stream and not kept: a retry is
told so (409 ``idempotency_not_replayable``) rather than acted on twice.  A first request
that died with its process is taken over once its lease (``idempotency_writes.IN_PROGRESS_LEASE``,
renewed while the request runs) has passed.  On the compatible and bulk endpoints the claim,
the rows and the answer are one write instead (:mod:`.idempotency_rows`); the compatible
endpoint does not even pass through here: its own keyed branch (``web/compat.py``) makes the
same checks in the same order and asks :meth:`IdempotencyMiddleware.claim_for` for the claim.

Without the header a request pays one scan of its header list.  The claim, the answer and
the release are :class:`~.idempotency_writes.IdempotencyOp` writes to the group-commit
writer; on the compatible and bulk endpoints, part of the endpoint's one write.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import IO, Protocol

from powerdialer.errors import AuthError
from powerdialer.settings import Settings
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable
from powerdialer.web.middleware.bodylimit import body_limit, declared_length, too_large_body
from powerdialer.web.middleware.idempotency_rows import (
    HEADER,
    REPLAY_MAX_BYTES,
    REPLAYED,
    SCOPE_CLAIM,
    answer_malformed,
    fingerprint,
    found_answer,
    in_transaction,
    key_of,
)
from powerdialer.web.middleware.idempotency_writes import RENEW_EVERY, IdempotencyOp, is_final
from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.middleware.ratelimit import ASGIApp
from powerdialer.web.middleware.recording import Capture, replaying, spool_body
from powerdialer.web.responses import (
    RETRY_AFTER,
    Receive,
    Scope,
    Send,
    send_json,
    storage_unavailable_body,
)

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 60.0


class _Services(Protocol):
    """What the middleware uses of ``web.services.Services``."""

    settings: Settings

    @property
    def writer(self) -> GroupCommitter: ...


def _headers(scope: Scope) -> tuple[bytes | None, str | None, str | None]:
    key = project = auth = None
    for name, value in scope["headers"]:
        if name == HEADER:
            key = value
        elif name == b"x-project-id":
            project = value.decode("latin-1")
        elif name == b"auth-key":
            auth = value.decode("latin-1")
    return key, project, auth


class IdempotencyMiddleware:
    """Wraps the whole application (the compatible endpoint included)."""

    def __init__(self, app: ASGIApp, services: _Services) -> None:
        self.app = app
        self.services = services
        self._purged: dict[int, float] = {}  # project -> when its expired keys were purged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            for name, _value in scope["headers"]:
                if name == HEADER:
                    await self._keyed(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _purge_due(self, project_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if now - self._purged.get(project_id, -PURGE_EVERY_SECONDS) < PURGE_EVERY_SECONDS:
            return False
        if len(self._purged) > 100_000:
            self._purged.clear()
        self._purged[project_id] = now
        return True

    def claim_for(
        self, scope: Scope, verified: VerifiedKey, key: str, auth_raw: str, body_sha256: str
    ) -> IdempotencyOp:
        """The claim of a request with a well-formed ``key`` (:func:`key_of`) whose body
        hashed to ``body_sha256``: what the compatible endpoint's own keyed branch submits
        with its row (``web/compat.py``), and this middleware for every other POST."""
        return IdempotencyOp(
            "claim",
            verified.project_id,
            key,
            fingerprint(scope["method"], scope["path"], scope["query_string"], body_sha256),
            presented_key=auth_raw.strip(),
            ttl=dt.timedelta(hours=self.services.settings.idempotency_ttl_hours),
            purge=self._purge_due(verified.project_id),
        )

    async def _keyed(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_key, _project, auth_raw = _headers(scope)
        key = key_of(raw_key)
        if key is None:
            await answer_malformed(send)
            return
        verified = scope.get(SCOPE_KEY)
        if not isinstance(verified, VerifiedKey):
            await self.app(scope, receive, send)  # a route without API keys (the web UI)
            return
        limit = body_limit(self.services.settings, scope["path"])
        length = declared_length(scope)
        read: tuple[IO[bytes], int, str] | str = "too_large"
        if length is None or length <= limit:
            read = await spool_body(receive, limit)
        if read == "too_large":
            await send_json(send, 413, too_large_body(scope["path"], limit))
            return
        if isinstance(read, str):
            return  # the client went away while sending
        spool, size, body_sha256 = read
        try:
            op = self.claim_for(scope, verified, key, auth_raw or "", body_sha256)
            body = replaying(spool, size, receive)
            if in_transaction(scope["path"]):
                # The endpoint claims the key in the transaction that stores its rows.
                scope[SCOPE_CLAIM] = op
                await self.app(scope, body, send)
            else:
                await self._claimed(op, scope, body, send)
        finally:
            spool.close()

    async def _claimed(self, op: IdempotencyOp, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            found = await self.services.writer.submit(op)
        except AuthError:
            await self.app(scope, receive, send)  # the app answers 401 in its own words
            return
        except StorageUnavailable as exc:
            body = storage_unavailable_body(str(exc), "nothing was done")
            await send_json(send, 503, body, [RETRY_AFTER])
            return
        if found is None:
            await self._run(op, scope, receive, send)
            return
        status, headers, body = found_answer(found, op.fingerprint)
        if REPLAYED in headers:
            await _replay(send, status, headers, body)
        else:
            await send_json(send, status, body, headers)

    async def _run(self, op: IdempotencyOp, scope: Scope, receive: Receive, send: Send) -> None:
        capture = Capture(send, REPLAY_MAX_BYTES)
        renewing = asyncio.ensure_future(self._renew(op))
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            renewing.cancel()
            await self._submit(op.released())
            if capture.complete and not capture.streaming:
                await capture.flush()  # answered in full, then failed (a background task)
            raise
        renewing.cancel()
        status = capture.status
        if capture.complete and is_final(status):
            kept = None if capture.streaming else b"".join(capture.chunks)
            saved = op.saved(status, capture.kept_headers(), kept)
            await self._submit(saved)
        else:
            await self._submit(op.released())
        if not capture.streaming:
            await capture.flush()

    async def _renew(self, op: IdempotencyOp) -> None:
        """Keep the claim's lease while its request runs (cancelled when it ends)."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            await self._submit(op.renewed())

    async def _submit(self, op: IdempotencyOp) -> None:
        """Save or release; if the database is down the claim stays and is taken over after
        ``idempotency_writes.IN_PROGRESS_LEASE``, and the client still gets its answer."""
        try:
            await self.services.writer.submit(op)
        except Exception:
            log.exception("could not %s Idempotency-Key %r", op.kind, op.key)


async def _replay(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
