"""``Idempotency-Key`` on every POST: a retried request is answered, not carried out again.

The first request with a key (per project) runs; its answer (status, body, content type) is
kept ``settings.idempotency_ttl_hours`` and replayed byte for byte, with
``Idempotent-Replayed: true``, to every later request with the same key and the same request
(method, path, query and body SHA-256).  The same key with another request is refused (422
``idempotency_key_reused``); while the first still runs, 409 ``idempotency_in_progress`` with
``Retry-After``.  Only final answers are kept — 2xx and 4xx other than 401, 403, 408, 409,
423, 425 and 429 — so retrying an auth failure, a rate limit, a conflict of state or a 5xx
acts again.  The middleware runs after ``web.keyauth.KeyAuthMiddleware``: a request whose API
key does not verify is answered before its body is spooled or a key claimed.  The claim checks
the key once more in its transaction (``projects.authenticate``), so a replay never reaches a
caller whose key was revoked meanwhile.

Answers over ``REPLAY_MAX_BYTES`` are passed through as they stream and not kept: a retry is
told so (409 ``idempotency_not_replayable``) rather than acted on twice.  A first request
that died with its process is taken over after ``IN_PROGRESS_LEASE``.

Without the header a request pays one scan of its header list.  The claim, the answer and
the release go through the group-commit writer like every other write (``apply_idempotency``
is registered there), so on SQLite they never contend with it for the write lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Literal, Protocol

import orjson
from sqlalchemy import Connection

from powerdialer import projects
from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.models import utcnow
from powerdialer.settings import Settings
from powerdialer.storage import idempotency as sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable
from powerdialer.web.bodylimit import body_limit, declared_length, too_large_body
from powerdialer.web.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.ratelimit import ASGIApp
from powerdialer.web.responses import (
    RETRY_AFTER,
    Message,
    Receive,
    Scope,
    Send,
    error_body,
    send_json,
    storage_unavailable_body,
)

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
# A full 10,000-row bulk answer with an error on every row is ~3 MB; 8 MiB keeps it.
REPLAY_MAX_BYTES = 8 * 1024 * 1024
IN_PROGRESS_LEASE = dt.timedelta(minutes=5)
PURGE_EVERY_SECONDS = 60.0
_SPOOL_BYTES = 1024 * 1024  # request bodies beyond this wait on disk, not in memory
_CHUNK = 64 * 1024
_KEY = re.compile(rb"[\x20-\x7e]{1,255}")
_KEPT_HEADERS = (b"content-type", b"location")
_NOT_FINAL = frozenset({401, 403, 408, 409, 423, 425, 429})


class _Owner(Protocol):
    settings: Settings

    @property
    def committer(self) -> GroupCommitter: ...


@dataclass(frozen=True, slots=True)
class IdempotencyOp(Payload["sql.Record | None"]):
    """A group-commit payload: claim a key, save its answer, or release it."""

    kind: Literal["claim", "save", "release"]
    project_id: int
    key: str
    fingerprint: str
    presented_key: str = ""  # claim: the Auth-key, verified before the key is looked at
    ttl: dt.timedelta = dt.timedelta(hours=24)
    purge: bool = False  # claim: also delete the project's expired keys
    status_code: int = 0  # save
    headers: str = "[]"  # save
    body: bytes | None = None  # save
    now: dt.datetime | None = None  # claim: the time it expires keys by; None: when stored


def apply_idempotency(
    conn: Connection, ops: Sequence[IdempotencyOp]
) -> list[sql.Record | PowerDialerError | None]:
    """The writer's apply function: a claim answers ``None`` (this request owns the key), the
    key's ``Record``, or ``AuthError``; save and release answer ``None``."""
    stored_at = utcnow()
    results: list[sql.Record | PowerDialerError | None] = []
    for op in ops:
        if op.kind == "claim":
            now = op.now or stored_at
            try:
                projects.authenticate(conn, op.project_id, op.presented_key)
            except AuthError as exc:
                results.append(exc)
                continue
            if op.purge:
                sql.purge(conn, op.project_id, now)
            found = sql.claim(
                conn,
                op.project_id,
                op.key,
                op.fingerprint,
                now=now,
                expires_at=now + op.ttl,
                stale_before=now - IN_PROGRESS_LEASE,
            )
            results.append(found)
        elif op.kind == "save":
            sql.save(
                conn,
                op.project_id,
                op.key,
                op.fingerprint,
                status_code=op.status_code,
                headers=op.headers,
                body=op.body,
            )
            results.append(None)
        else:
            sql.release(conn, op.project_id, op.key, op.fingerprint)
            results.append(None)
    return results


WRITES: Writes = {IdempotencyOp: apply_idempotency}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""


class _Capture:
    """Holds the app's answer until it is saved; past ``REPLAY_MAX_BYTES`` it streams on."""

    def __init__(self, send: Send) -> None:
        self.downstream = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.streaming = False
        self.complete = False

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        if self.streaming:
            await self.downstream(message)
        elif message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.size += len(self.chunks[-1])
            if self.size > REPLAY_MAX_BYTES:
                self.streaming = True
                await self.flush(more=not self.complete)
        else:
            await self.downstream(message)

    async def flush(self, *, more: bool = False) -> None:
        if self.start is None:
            return
        await self.downstream(self.start)
        body, self.chunks = b"".join(self.chunks), []
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})

    def kept_headers(self) -> str:
        headers = self.start.get("headers", []) if self.start else []
        kept = [
            [n.decode("latin-1"), v.decode("latin-1")] for n, v in headers if n in _KEPT_HEADERS
        ]
        return orjson.dumps(kept).decode()


async def _read_body(receive: Receive, limit: int) -> tuple[IO[bytes], int, str] | str:
    """Spool the body while hashing it: ``(file, size, sha256)``, or "too_large" /
    "disconnect"."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed by caller)
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            spool.close()
            return "disconnect"
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            spool.close()
            return "too_large"
        digest.update(chunk)
        spool.write(chunk)
        if not message.get("more_body", False):
            spool.seek(0)
            return spool, size, digest.hexdigest()


def _replaying(spool: IO[bytes], size: int, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the spooled body, then defers to the real one (which
    reports the client's disconnect)."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(_CHUNK)
        done = spool.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


def fingerprint(method: str, path: str, query: bytes, body_sha256: str) -> str:
    """What makes two requests "the same request" for one key."""
    text = f"{method}\n{path}\n{query.decode('latin-1')}\n{body_sha256}"
    return hashlib.sha256(text.encode()).hexdigest()


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


async def _answer(
    send: Send, status: int, code: str, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send_json(send, status, error_body(code, message, field="Idempotency-Key"), extra)


class IdempotencyMiddleware:
    """Wraps the whole application (the compatible endpoint included)."""

    def __init__(self, app: ASGIApp, owner: _Owner) -> None:
        self.app = app
        self.owner = owner
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

    async def _keyed(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_key, _project, auth_raw = _headers(scope)
        raw_key = (raw_key or b"").strip()
        if not _KEY.fullmatch(raw_key):
            await _answer(
                send,
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters: "
                "send e.g. a UUID, new for each operation and the same for its retries.",
            )
            return
        verified = scope.get(SCOPE_KEY)
        if not isinstance(verified, VerifiedKey):
            await self.app(scope, receive, send)  # a route without API keys (the web UI)
            return
        limit = body_limit(self.owner.settings, scope["path"])
        length = declared_length(scope)
        read: tuple[IO[bytes], int, str] | str = "too_large"
        if length is None or length <= limit:
            read = await _read_body(receive, limit)
        if read == "too_large":
            await send_json(send, 413, too_large_body(scope["path"], limit))
            return
        if isinstance(read, str):
            return  # the client went away while sending
        spool, size, body_sha256 = read
        try:
            op = IdempotencyOp(
                "claim",
                verified.project_id,
                raw_key.decode("ascii"),
                fingerprint(scope["method"], scope["path"], scope["query_string"], body_sha256),
                presented_key=(auth_raw or "").strip(),
                ttl=dt.timedelta(hours=self.owner.settings.idempotency_ttl_hours),
                purge=self._purge_due(verified.project_id),
            )
            await self._claimed(op, scope, _replaying(spool, size, receive), send)
        finally:
            spool.close()

    async def _claimed(self, op: IdempotencyOp, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            found = await self.owner.committer.submit(op)
        except AuthError:
            await self.app(scope, receive, send)  # the app answers 401 in its own words
            return
        except StorageUnavailable as exc:
            body = storage_unavailable_body(str(exc), "nothing was done")
            await send_json(send, 503, body, [RETRY_AFTER])
            return
        if found is None:
            await self._run(op, scope, receive, send)
        elif found.fingerprint != op.fingerprint:
            await _answer(
                send,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request (method, path, "
                "query or body): use a new key for a new operation.",
            )
        elif found.status_code is None:
            await _answer(
                send,
                409,
                "idempotency_in_progress",
                "the first request with this Idempotency-Key is still running: retry after "
                "the time in Retry-After to get its answer.",
                [(b"retry-after", b"1")],
            )
        elif found.response_body is None:
            await _answer(
                send,
                409,
                "idempotency_not_replayable",
                f"the request with this Idempotency-Key was carried out (status "
                f"{found.status_code}) but its answer was over {REPLAY_MAX_BYTES} bytes and "
                "was not kept: read the result back, or use a new key to run it again.",
            )
        else:
            await _replay(send, found)

    async def _run(self, op: IdempotencyOp, scope: Scope, receive: Receive, send: Send) -> None:
        capture = _Capture(send)
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            await self._submit(_replace(op, "release"))
            if capture.complete and not capture.streaming:
                await capture.flush()  # answered in full, then failed (a background task)
            raise
        status = capture.status
        if capture.complete and 200 <= status < 500 and status not in _NOT_FINAL:
            kept = None if capture.streaming else b"".join(capture.chunks)
            saved = _replace(op, "save", status, capture.kept_headers(), kept)
            await self._submit(saved)
        else:
            await self._submit(_replace(op, "release"))
        if not capture.streaming:
            await capture.flush()

    async def _submit(self, op: IdempotencyOp) -> None:
        """Save or release; if the database is down the claim stays and is taken over after
        ``IN_PROGRESS_LEASE``, and the client still gets its answer."""
        try:
            await self.owner.committer.submit(op)
        except Exception:
            log.exception("could not %s Idempotency-Key %r", op.kind, op.key)


def _replace(
    op: IdempotencyOp,
    kind: Literal["save", "release"],
    status_code: int = 0,
    headers: str = "[]",
    body: bytes | None = None,
) -> IdempotencyOp:
    return IdempotencyOp(
        kind,
        op.project_id,
        op.key,
        op.fingerprint,
        status_code=status_code,
        headers=headers,
        body=body,
    )


async def _replay(send: Send, record: sql.Record) -> None:
    body = record.response_body or b""
    headers = [
        (n.encode("latin-1"), v.encode("latin-1"))
        for n, v in orjson.loads(record.response_headers or "[]")
    ]
    headers += [(b"content-length", str(len(body)).encode()), REPLAYED]
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
