"""``POST /power-dialer/campaigns/campaign-rows``, wire-compatible with Ringostat.

This is the hot path, so it is a plain ASGI callable: no router, no per-request objects
beyond one dict, orjson for the body.  Frameworks cost 2–4× here (see BENCHMARKS.md).
The answer ``{"result": true}`` is sent only after the group-commit writer has committed the
row's transaction: an acknowledged row survives a crash the moment after.

Past 300 lines on purpose: the row with an ``Idempotency-Key`` takes its own branch of this
endpoint (no middleware between, issue 15), and its checks must keep the unkeyed branch's
order and answers, so the two are read side by side.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import orjson

from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.rows.intake import Intake, intake_for
from powerdialer.settings import Settings
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable
from powerdialer.telemetry import hooks
from powerdialer.web.credentials import scan_headers
from powerdialer.web.middleware.idempotency_rows import (
    HEADER,
    REPLAYED,
    SCOPE_CLAIM,
    KeyedIntake,
    answer_malformed,
    found_answer,
    key_of,
)
from powerdialer.web.middleware.idempotency_writes import IdempotencyOp
from powerdialer.web.middleware.keyauth import (
    MISS,
    SCOPE_KEY,
    KeyAuth,
    Miss,
    Refusal,
    VerifiedKey,
    key_refused,
)
from powerdialer.web.middleware.ratelimit import (
    AwaitedLimiter,
    RateLimiter,
    headers_for,
    rate_limited_body,
)
from powerdialer.web.middleware.textguard import json_error
from powerdialer.web.responses import (
    RETRY_AFTER,
    SUCCESS_BODY,
    Receive,
    Scope,
    Send,
    body_for,
    error_body,
    send_json,
    status_for,
    storage_unavailable_body,
)

log = logging.getLogger(__name__)

PATH = "/power-dialer/campaigns/campaign-rows"
_OK_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


class Claims(Protocol):
    """What the endpoint uses of ``web.middleware.idempotency.IdempotencyMiddleware`` (which
    imports this module, through ``bodylimit``)."""

    def claim_for(
        self, scope: Scope, verified: VerifiedKey, key: str, auth_raw: str, body_sha256: str
    ) -> IdempotencyOp: ...


class CompatEndpoint:
    """Answers the compatible path, which the application sends here straight from its front
    door: this endpoint checks the key itself, first, before anything is spent (the check of
    ``web.middleware.keyauth``, through the verifier's cache), in the one pass over the
    headers it needs anyway.  A request with an ``Idempotency-Key`` takes ``_keyed`` once
    its key is verified: the claim the idempotency middleware would make
    (``IdempotencyMiddleware.claim_for``) goes to the writer with the row, one payload.  The
    key is checked once more in the transaction that stores the row, where a revoked key is
    refused at once."""

    def __init__(
        self,
        settings: Settings,
        committer: GroupCommitter,
        limiter: RateLimiter | AwaitedLimiter,
        auth: KeyAuth,
        idempotency: Claims,
    ) -> None:
        self.settings = settings
        self.committer = committer
        self.limiter = limiter
        # Memory: a plain call, no await (the hot path); shared (Redis): awaited.
        self._local = limiter if isinstance(limiter, RateLimiter) else None
        self._shared = None if isinstance(limiter, RateLimiter) else limiter
        self.auth = auth
        self.idempotency = idempotency
        # The body middleware's 413 for this path (``bodylimit.too_large_body``: it imports
        # this module), which a keyed row answered before it took this branch.
        self._keyed_too_large = error_body(
            "body_too_large",
            f"the body is larger than {settings.max_body_bytes} bytes (the limit here): "
            "send a smaller body.",
        )
        self._verify_cached = auth.verifier.verify_cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await send_json(
                send,
                405,
                error_body(
                    "method_not_allowed",
                    f"{scope['method']} is not supported here: send the row with POST.",
                ),
                [(b"allow", b"POST")],
            )
            return
        verified = scope.get(SCOPE_KEY)
        credentials, length, idempotent = scan_headers(scope["headers"])
        if not isinstance(verified, VerifiedKey):  # straight from the front door
            found: VerifiedKey | Refusal | Miss | None = MISS
            if isinstance(credentials, tuple):  # well-formed: the cache answers, no await
                found = self._verify_cached(*credentials)
            if found is None:
                found = key_refused()
            elif isinstance(found, Miss):
                found = await self.auth.check(credentials, fresh=False)
            if not isinstance(found, VerifiedKey):
                await send_json(send, *found)
                return
            verified = scope[SCOPE_KEY] = found  # for the request log (telemetry)
            if idempotent:
                await self._keyed(scope, receive, send, verified, length)
                return
        headers: list[tuple[bytes, bytes]] = []
        if self.limiter.enabled:
            limited = await self._rate_limit(verified, send)
            if limited is None:
                return
            headers = limited
        raw = await self._read_body(receive, length)
        if raw is None:
            await send_json(
                send,
                413,
                error_body(
                    "body_too_large",
                    f"the body is larger than {self.settings.max_body_bytes} "
                    "bytes: send one row per request (or use the bulk endpoint).",
                ),
                headers,
            )
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            # The key is still checked first, so strangers learn nothing about parsing.
            body = json_error(raw, exc)
        intake = intake_for(
            verified.project_id,
            verified.key_id,
            verified.secret_hash,
            body,
            self.settings.default_region,
        )
        claim = scope.get(SCOPE_CLAIM)
        if claim is not None:
            await self._store_keyed(KeyedIntake(claim, intake), send, headers)
        else:
            await self._store(intake, send, headers)

    async def _rate_limit(
        self, verified: VerifiedKey, send: Send
    ) -> list[tuple[bytes, bytes]] | None:
        """Count the request against its key's budget: the ``RateLimit-*`` headers, or
        ``None`` once a 429 has been answered."""
        key = (verified.project_id, verified.key_id)
        if self._local is not None:
            decision = self._local.hit(key)
        else:
            assert self._shared is not None
            decision = await self._shared.hit(key)
        headers = headers_for(decision)
        if not decision.allowed:
            await send_json(send, 429, rate_limited_body(decision, self.limiter), headers)
            return None
        return headers

    async def _keyed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        verified: VerifiedKey,
        length: bytes | None,
    ) -> None:
        """A row with an ``Idempotency-Key``, its key verified: the middleware's checks in its
        order (the key's form, the body's size, then the rate limit), without its detours
        (no spooling, no second pass through the app); the claim, the row and the answer go
        to the writer as one payload (:meth:`_store_keyed`)."""
        raw_key = auth_raw = None
        for name, value in scope["headers"]:  # the last of each, as the middleware reads
            if name == HEADER:
                raw_key = value
            elif name == b"auth-key":
                auth_raw = value
        key = key_of(raw_key)
        if key is None:
            await answer_malformed(send)
            return
        raw = await self._read_keyed_body(receive, length)
        if isinstance(raw, int):
            if raw:  # 0: the client went away while sending; nothing claimed, nothing stored
                await send_json(send, raw, self._keyed_too_large)
            return
        headers: list[tuple[bytes, bytes]] = []
        if self.limiter.enabled:
            limited = await self._rate_limit(verified, send)
            if limited is None:
                return
            headers = limited
        claim = self.idempotency.claim_for(
            scope,
            verified,
            key,
            (auth_raw or b"").decode("latin-1"),
            hashlib.sha256(raw).hexdigest(),
        )
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            body = json_error(raw, exc)
        intake = intake_for(
            verified.project_id,
            verified.key_id,
            verified.secret_hash,
            body,
            self.settings.default_region,
        )
        await self._store_keyed(KeyedIntake(claim, intake), send, headers)

    async def _read_keyed_body(self, receive: Receive, length: bytes | None) -> bytes | int:
        """The whole body; 413 once it exceeds the limit; 0 if the client went away (a keyed
        request then claims nothing: its empty body would have saved a 400 for the key)."""
        limit = self.settings.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return 413
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 0
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return 413
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _store_keyed(
        self, keyed: KeyedIntake, send: Send, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """The row, its ``Idempotency-Key`` claim and its saved answer: one write
        (``web/middleware/idempotency_rows.py``)."""
        try:
            answer = await self.committer.submit(keyed)
        except AuthError as exc:  # revoked since the verifier cached it
            self.auth.verifier.forget(keyed.intake.project_id, keyed.intake.key_id)
            await send_json(send, status_for(exc), body_for(exc), headers)
            return
        except StorageUnavailable as exc:
            # A cut COMMIT may have stored the row, with its key's answer: a retry with the
            # same key is then replayed, never stored twice.
            stored = "may or may not be" if exc.uncertain else "was NOT"
            body = storage_unavailable_body(str(exc), f"the row {stored} stored")
            await send_json(send, 503, body, [*headers, RETRY_AFTER])
            return
        if answer.found is not None:
            status, extra, body = found_answer(answer.found, keyed.claim.fingerprint)
            if REPLAYED in extra:
                length = (b"content-length", str(len(body)).encode())
                start = {"type": "http.response.start", "status": status}
                await send({**start, "headers": [*headers, *extra, length]})
                await send({"type": "http.response.body", "body": body})
            else:
                await send_json(send, status, body, [*headers, *extra])
            return
        outcome = answer.result
        if isinstance(outcome, PowerDialerError):
            if isinstance(outcome, AuthError):
                self.auth.verifier.forget(keyed.intake.project_id, keyed.intake.key_id)
            await send_json(send, status_for(outcome), body_for(outcome), headers)
            return
        if (m := hooks.active) is not None:  # metrics
            m.stored("compat", 1)
        await send_json(send, 200, SUCCESS_BODY, headers)

    async def _store(self, intake: Intake, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        try:
            await self.committer.submit(intake)
        except PowerDialerError as exc:
            if isinstance(exc, AuthError):  # revoked since the verifier cached it
                self.auth.verifier.forget(intake.project_id, intake.key_id)
            await send_json(send, status_for(exc), body_for(exc), headers)
        except StorageUnavailable as exc:
            stored = "may or may not be" if exc.uncertain else "was NOT"
            body = storage_unavailable_body(str(exc), f"the row {stored} stored")
            await send_json(send, 503, body, [*headers, RETRY_AFTER])
        else:
            if (m := hooks.active) is not None:  # metrics
                m.stored("compat", 1)
            if headers:
                await send_json(send, 200, SUCCESS_BODY, headers)
            else:
                await send({"type": "http.response.start", "status": 200, "headers": _OK_HEADERS})
                await send({"type": "http.response.body", "body": SUCCESS_BODY})

    async def _read_body(self, receive: Receive, length: bytes | None) -> bytes | None:
        """The whole body, or ``None`` as soon as it exceeds the limit (we stop reading)."""
        limit = self.settings.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return None
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):  # the whole body in one message, as usual
            return b"" if message["type"] == "http.disconnect" else _within(body, limit)
        chunks = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _within(body: bytes, limit: int) -> bytes | None:
    return body if len(body) <= limit else None
