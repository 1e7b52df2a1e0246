"""The sender's writes, for the group-commit writer: ``Claim`` (take due deliveries under a
lease) and ``Settle`` (what became of each attempt), and the retry schedule.

Retries (docs/webhooks.md): after the n-th failed attempt the next one is due after a delay
drawn uniformly from ``[1 s, min(6 h, 30 s × 2^(n-1))]`` ("full jitter"), or later if the
answer's ``Retry-After`` asks for it (at most 24 h); the delivery is given up (``failed``) at
the first failure 24 hours or more after its first attempt, so every event is tried for at
least 24 hours.  A subscription whose attempts have all failed for ``DISABLE_AFTER`` (5 days,
whatever was given up meanwhile) is disabled, with the reason shown in the UI and the API.

``Prune`` is the retention (``sender.py`` runs it about once a minute): events older than
``POWERDIALER_WEBHOOK_RETENTION_DAYS`` whose deliveries all settled before then go, with
their deliveries and attempts, ``PRUNE_BATCH`` events a transaction.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection

from powerdialer.storage import webhooks as sql
from powerdialer.storage.payload import Payload, Writes

BASE = dt.timedelta(seconds=30)
CAP = dt.timedelta(hours=6)
RETRY_FOR = dt.timedelta(hours=24)
MAX_RETRY_AFTER = dt.timedelta(hours=24)
DISABLE_AFTER = dt.timedelta(days=5)
LEASE = dt.timedelta(seconds=30)  # longer than one run of posts may take (sender.py)
HEAD_BYTES = 1024  # of each answer, kept in the log
PRUNE_BATCH = 1000  # events deleted in one transaction (with ~2 rows each: a short one)


def ceiling(failures: int) -> dt.timedelta:
    """The longest delay after the ``failures``-th failed attempt (1-based)."""
    factor: int = 1 << min(max(failures - 1, 0), 20)
    return min(CAP, BASE * factor)


def retry_delay(
    failures: int, rng: random.Random, retry_after: dt.timedelta | None
) -> dt.timedelta:
    top = ceiling(failures).total_seconds()
    delay = dt.timedelta(seconds=rng.uniform(min(1.0, top), top))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), when - now)


@dataclass(frozen=True, slots=True)
class Claim(Payload["list[list[sql.Claimed]]"]):
    """Take, for up to ``subscriptions`` subscriptions, the due head of each one's queue and
    up to ``run - 1`` deliveries after it, leased to ``owner`` until ``now + LEASE``."""

    lane: ClassVar[str] = "webhooks"  # its own writer on PostgreSQL (storage/writer.py)
    owner: str
    now: dt.datetime
    subscriptions: int = 32
    # A busy queue's claim, settle and secrets read are shared by this many posts; a slow
    # receiver's run is cut at sender.RUN_SECONDS, well inside LEASE.
    run: int = 200

    @property
    def durable(self) -> bool:
        """Not fsynced: a lease lost in a crash runs out, and the delivery is sent again."""
        return False


@dataclass(frozen=True, slots=True)
class Result:
    """One attempt: its answer (``status`` None: no answer, ``error`` says why) or not made
    (``tried`` False: an earlier delivery of its run failed, so it waits its turn)."""

    delivery: sql.Claimed
    tried: bool
    status: int | None = None
    elapsed_ms: int | None = None
    head: bytes = b""
    error: str | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Settled:
    delivered: int
    failed: int  # attempts that failed
    given_up: int
    disabled: list[int]  # subscriptions this disabled


@dataclass(frozen=True, slots=True)
class Settle(Payload[Settled]):
    lane: ClassVar[str] = "webhooks"
    owner: str
    now: dt.datetime
    results: list[Result]
    seed: int | None = None  # the jitter's, for a test that wants the same delays


def apply_claims(conn: Connection, items: Sequence[Claim]) -> list[list[list[sql.Claimed]]]:
    return [sql.claim(conn, i.now, i.owner, i.now + LEASE, i.subscriptions, i.run) for i in items]


def _settle(conn: Connection, item: Settle) -> Settled:
    rng = random.Random(item.seed)  # noqa: S311 (jitter, not a secret)
    now = item.now
    delivered = failed = given_up = 0
    disabled: list[int] = []
    attempts: list[sql.AttemptValues] = []
    succeeded: set[int] = set()
    failures: list[Result] = []
    answered: dict[int, list[Result]] = {}  # 2xx answers by status code: one UPDATE each
    unused: list[int] = []
    for result in item.results:
        d = result.delivery
        if not result.tried:
            unused.append(d.id)
            continue
        if result.ok:
            assert result.status is not None  # ok means a 2xx status
            answered.setdefault(result.status, []).append(result)
            continue
        first = d.first_attempt_at or now
        values: dict[str, object] = {
            "attempts": d.attempts + 1,
            "first_attempt_at": first,
            "last_status_code": result.status,
        }
        if now - first >= RETRY_FOR:
            values.update(status=sql.FAILED, finished_at=now)
        else:
            after = parse_retry_after(result.retry_after, now)
            values["next_attempt_at"] = now + retry_delay(d.attempts + 1, rng, after)
        if not sql.settle_delivery(conn, d.id, item.owner, values):
            continue  # the lease ran out and another sender took it: its attempt counts
        attempts.append(_attempt(result, now))
        failed += 1
        given_up += values.get("status") == sql.FAILED
        failures.append(result)
    sql.release(conn, unused, item.owner)
    for code, results in answered.items():
        held = sql.settle_delivered(conn, [r.delivery.id for r in results], item.owner, code, now)
        for result in results:
            if result.delivery.id in held:
                attempts.append(_attempt(result, now))
                delivered += 1
                succeeded.add(result.delivery.subscription_id)
    # A run stops at its first failure, so a subscription's successes in this settle came
    # before its failure: reset first, then count the failure.
    sql.subscriptions_succeeded(conn, succeeded)
    for result in failures:
        sub_id = result.delivery.subscription_id
        reason = (
            f"every delivery failed for {DISABLE_AFTER.days} days "
            f"(last: {result.error or f'HTTP {result.status}'})"
        )
        if sql.subscription_failed(conn, sub_id, now, now - DISABLE_AFTER, reason):
            disabled.append(sub_id)
    sql.record_attempts(conn, attempts, now)
    return Settled(delivered, failed, given_up, disabled)


def _attempt(result: Result, now: dt.datetime) -> sql.AttemptValues:
    d = result.delivery
    head = result.head[:HEAD_BYTES].decode("utf-8", errors="replace") or None
    return (d.project_id, d.id, result.status, result.elapsed_ms, head, result.error)


def apply_settles(conn: Connection, items: Sequence[Settle]) -> list[Settled]:
    return [_settle(conn, item) for item in items]


@dataclass(frozen=True, slots=True)
class Prune(Payload[int]):
    """Delete up to ``limit`` events created more than ``retention`` before ``now``, whose
    deliveries all settled before then (``storage.webhooks.prune``); how many went."""

    lane: ClassVar[str] = "webhooks"
    now: dt.datetime
    retention: dt.timedelta
    limit: int = PRUNE_BATCH

    @property
    def durable(self) -> bool:
        """Not fsynced: a deletion lost in a crash is made again by the next one."""
        return False


def apply_prunes(conn: Connection, items: Sequence[Prune]) -> list[int]:
    return [sql.prune(conn, i.now - i.retention, i.limit) for i in items]


WRITES: Writes = {Claim: apply_claims, Settle: apply_settles, Prune: apply_prunes}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
