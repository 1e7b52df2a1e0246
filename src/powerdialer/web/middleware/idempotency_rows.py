"""``Idempotency-Key`` in the row's own transaction, on the compatible and the bulk endpoint.

Elsewhere a keyed request costs three writer round trips (claim, the request, save: each a
commit of its own, :mod:`.idempotency`).  On these two endpoints the middleware only checks
the key's form, spools the body and puts the claim it would have made in the scope
(``SCOPE_CLAIM``); the endpoint then hands the writer ONE payload, :class:`KeyedIntake` or
:class:`KeyedBulk`, whose apply function claims the key, stores the row(s) and saves the
answer in the same transaction.  So:

- a replay, a reused key or a key still claimed elsewhere is answered from the key's row,
  and nothing is stored;
- the key is never seen claimed and unanswered: a process that dies mid-request leaves no
  claim behind (its transaction never commits), and of two requests with one key on two
  instances, the second waits on the unique index for the first's commit, then replays it;
- an answer that a retry should act on (``idempotency_writes.NOT_FINAL``: 401, 409, 429, …)
  releases the claim in the same transaction.

The key's form (``key_of``), a request's ``fingerprint`` and the answers from a key's row
(``found_answer``) are here too: the compatible endpoint's keyed branch and the middleware
both use them, and the endpoint cannot import the middleware (which imports it, through
``bodylimit``).  Past 300 lines on purpose for that reason: one contract, one module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Connection

from powerdialer import keys
from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.models import utcnow
from powerdialer.projects import invalid_key
from powerdialer.rows.intake import Intake, apply_intakes
from powerdialer.rows.write import BulkWrite, RowOutcome, apply_bulk
from powerdialer.storage import idempotency as sql
from powerdialer.storage import projects as project_sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.web.middleware.idempotency_writes import (
    IN_PROGRESS_LEASE,
    IdempotencyOp,
    claim,
    is_final,
)
from powerdialer.web.responses import (
    SUCCESS_BODY,
    Send,
    body_for,
    error_body,
    send_json,
    status_for,
)

__all__ = [
    "HEADER",
    "SCOPE_CLAIM",
    "WRITES",
    "Keyed",
    "KeyedBulk",
    "KeyedIntake",
    "answer_malformed",
    "fingerprint",
    "found_answer",
    "in_transaction",
    "key_of",
]

T = TypeVar("T")
SCOPE_CLAIM = "powerdialer.idempotency_claim"
"""The scope entry the middleware leaves for an endpoint that claims in its own write."""
_PATHS = re.compile(r"/power-dialer/campaigns/(campaign-rows|[0-9]{1,19}/rows)")
_JSON_HEADERS = orjson.dumps([["content-type", "application/json"]]).decode()
REPLAYED = (b"idempotent-replayed", b"true")
REPLAY_MAX_BYTES = 8 * 1024 * 1024
"""Answers over this are not kept (a full 10,000-row bulk answer with an error on every row
is ~3 MB): a retry is told so (409 ``idempotency_not_replayable``)."""


HEADER = b"idempotency-key"
_KEY = re.compile(rb"[\x20-\x7e]{1,255}")


def fingerprint(method: str, path: str, query: bytes, body_sha256: str) -> str:
    """What makes two requests "the same request" for one key."""
    text = f"{method}\n{path}\n{query.decode('latin-1')}\n{body_sha256}"
    return hashlib.sha256(text.encode()).hexdigest()


def key_of(raw: bytes | None) -> str | None:
    """The ``Idempotency-Key`` header's key, or ``None`` when it is malformed (answer that
    with :func:`answer_malformed`)."""
    raw = (raw or b"").strip()
    return raw.decode("ascii") if _KEY.fullmatch(raw) else None


async def answer_malformed(send: Send) -> None:
    """The 400 of a malformed ``Idempotency-Key``."""
    body = error_body(
        "invalid_idempotency_key",
        "Idempotency-Key must be 1 to 255 printable ASCII characters: "
        "send e.g. a UUID, new for each operation and the same for its retries.",
        field="Idempotency-Key",
    )
    await send_json(send, 400, body)


def in_transaction(path: str) -> bool:
    """Whether the endpoint at ``path`` claims an ``Idempotency-Key`` in its own write."""
    return _PATHS.fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class Keyed(Generic[T]):
    """What a keyed write answers: the key's row when another request has (or had) it, else
    the write's own result (a domain error included: its answer was saved or released)."""

    found: sql.Record | None
    result: T | PowerDialerError | None = None


@dataclass(slots=True)
class KeyedIntake(Payload["Keyed[bool]"]):
    """A compatible row with its ``Idempotency-Key`` claim: one writer round trip."""

    claim: IdempotencyOp
    intake: Intake


@dataclass(slots=True)
class KeyedBulk(Payload["Keyed[list[RowOutcome]]"]):
    """A bulk request with its claim; ``render`` makes the 200 answer that is saved."""

    claim: IdempotencyOp
    write: BulkWrite
    render: Callable[[list[RowOutcome]], bytes]

    @property
    def weight(self) -> int:
        return self.write.weight


Answer = tuple[int, bytes]


def _intake_answer(item: KeyedIntake, outcome: Any) -> Answer:
    if isinstance(outcome, PowerDialerError):
        return status_for(outcome), body_for(outcome)
    return 200, SUCCESS_BODY


def _bulk_answer(item: KeyedBulk, outcome: Any) -> Answer:
    if isinstance(outcome, PowerDialerError):
        return status_for(outcome), body_for(outcome)
    return 200, item.render(outcome)


Credentials = tuple[int, str, str] | None
"""``(project_id, key_id, secret_hash)`` of a write's ``Auth-key``; ``None``: malformed."""


def _presented(item: Any) -> Credentials:
    """The credentials of a claim's ``Auth-key`` as presented (hashed here)."""
    op: IdempotencyOp = item.claim
    parts = keys.split_key(op.presented_key)
    return None if parts is None else (op.project_id, parts[0], keys.hash_secret(parts[1]))


def _intake_credentials(item: KeyedIntake) -> Credentials:
    """A compatible row's credentials: hashed by the edge that verified them already."""
    intake = item.intake
    return (intake.project_id, intake.key_id, intake.secret_hash)


def _verified(conn: Connection, found: Sequence[Credentials]) -> list[bool]:
    """Whether each write's ``Auth-key`` is an active key of its project: one query for the
    batch (``projects.authenticate``'s check, batched)."""
    hashes = project_sql.key_hashes(conn, {(c[0], c[1]) for c in found if c is not None})
    return [c is not None and keys.hash_matches(c[2], hashes.get((c[0], c[1]))) for c in found]


def _apply_keyed(
    conn: Connection,
    items: Sequence[Any],
    inner: Callable[[Connection, list[Any]], Sequence[Any]],
    payload: Callable[[Any], Any],
    answer: Callable[[Any, Any], Answer],
    credentials: Callable[[Any], Credentials],
    presumed: Answer | None = None,
) -> list[Keyed[Any] | PowerDialerError]:
    """Claim, write, save for a batch, in a few statements whatever its size (new keys are
    claimed in one INSERT, the answers saved in one executemany); a key that comes twice in
    one batch is claimed by its first request, and its later ones (a second pass) find the
    first one's answer.  ``presumed``: the answer nearly every write gets (a compatible row:
    200 ``{"result":true}``), written with the claim, so only the others are saved apart."""
    preset = None if presumed is None else (presumed[0], _JSON_HEADERS, presumed[1])
    stored_at = utcnow()
    nobody: Keyed[Any] = Keyed(None)  # a placeholder (frozen: one will do)
    results: list[Keyed[Any] | PowerDialerError] = [nobody] * len(items)
    ops: list[IdempotencyOp] = [item.claim for item in items]
    pending = []
    for index, ok in enumerate(_verified(conn, [credentials(item) for item in items])):
        if ok:
            pending.append(index)
        else:
            results[index] = invalid_key()
    for project_id in {ops[i].project_id for i in pending if ops[i].purge}:
        sql.purge(conn, project_id, stored_at)
    while pending:
        seen: set[tuple[int, str]] = set()
        first: list[int] = []
        later: list[int] = []
        for index in pending:
            pair = (ops[index].project_id, ops[index].key)
            (later if pair in seen else first).append(index)
            seen.add(pair)
        claims = []
        for index in first:
            op = ops[index]
            now = op.now or stored_at
            claims.append(
                (op.project_id, op.key, op.fingerprint, now, now + op.ttl, now + IN_PROGRESS_LEASE)
            )
        inserted = sql.insert_claims(conn, claims, preset)
        claimed: list[int] = []
        for index in first:
            op = ops[index]
            if (op.project_id, op.key) in inserted:
                claimed.append(index)
                continue
            found = claim(conn, dataclasses.replace(op, purge=False), stored_at)
            if isinstance(found, AuthError):
                results[index] = found
            elif found is not None:
                results[index] = Keyed(found)
            else:  # an expired or abandoned claim, taken over
                claimed.append(index)
        outcomes = inner(conn, [payload(items[i]) for i in claimed]) if claimed else []
        saves: list[sql.Answer] = []
        corrections: list[sql.Answer] = []
        for index, outcome in zip(claimed, outcomes, strict=True):
            op = ops[index]
            status, body = answer(items[index], outcome)
            settled = preset is not None and (op.project_id, op.key) in inserted
            results[index] = Keyed(None, outcome)
            if settled and (status, body) == presumed:
                continue  # saved with its claim
            if not is_final(status):
                sql.release(conn, op.project_id, op.key, op.fingerprint, settled=settled)
                continue
            kept = body if len(body) <= REPLAY_MAX_BYTES else None
            saved = (op.project_id, op.key, op.fingerprint, status, _JSON_HEADERS, kept)
            (corrections if settled else saves).append(saved)
        sql.save_many(conn, saves)
        sql.save_many(conn, corrections, settled=True)
        pending = later
    return results


def apply_keyed_intakes(
    conn: Connection, items: Sequence[KeyedIntake]
) -> list[Keyed[Any] | PowerDialerError]:
    """The writer's apply function for :class:`KeyedIntake`."""
    return _apply_keyed(
        conn,
        items,
        apply_intakes,
        lambda i: i.intake,
        _intake_answer,
        _intake_credentials,
        (200, SUCCESS_BODY),
    )


def apply_keyed_bulk(
    conn: Connection, items: Sequence[KeyedBulk]
) -> list[Keyed[Any] | PowerDialerError]:
    """The writer's apply function for :class:`KeyedBulk`."""
    return _apply_keyed(conn, items, apply_bulk, lambda i: i.write, _bulk_answer, _presented)


WRITES: Writes = {KeyedIntake: apply_keyed_intakes, KeyedBulk: apply_keyed_bulk}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [], error_body(code, message, field="Idempotency-Key")


def found_answer(
    found: sql.Record, fingerprint: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer to a request whose key another request has or had: its saved answer
    (replayed, ``Idempotent-Replayed: true``), or why not (status, extra headers, body;
    the body's own headers but ``content-length`` are among the extra ones of a replay)."""
    if found.fingerprint != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request (method, path, "
            "query or body): use a new key for a new operation.",
        )
    if found.status_code is None:
        status, _, body = _error(
            409,
            "idempotency_in_progress",
            "the first request with this Idempotency-Key is still running: retry after "
            "the time in Retry-After to get its answer.",
        )
        return status, [(b"retry-after", b"1")], body
    if found.response_body is None:
        return _error(
            409,
            "idempotency_not_replayable",
            f"the request with this Idempotency-Key was carried out (status "
            f"{found.status_code}) but its answer was over {REPLAY_MAX_BYTES} bytes and "
            "was not kept: read the result back, or use a new key to run it again.",
        )
    headers = [
        (n.encode("latin-1"), v.encode("latin-1"))
        for n, v in orjson.loads(found.response_headers or "[]")
    ]
    return found.status_code, [*headers, REPLAYED], found.response_body
