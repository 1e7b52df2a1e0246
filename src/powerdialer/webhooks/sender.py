"""The sender: an asyncio task of the server that posts the outbox's deliveries after their
commit (docs/webhooks.md).

Each ``tick(now)`` claims due deliveries under a lease through the writer
(``deliveries.Claim``: on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several instances share
the work), posts each subscription's run in order, concurrently across subscriptions, each
signed (``signing``) and to a checked address (``powerdialer.outbound``: over kept-alive
connections, each opened to an address checked then), stops a run at its
first failure (the next delivery waits for that one: order per subscription), and settles
every attempt in one write (``deliveries.Settle``).  The loop ticks again at once while there
is work, else every ``interval`` seconds, and an idle sender only claims after a read says
something is due.
Retention: the loop also deletes old settled events (``deliveries.Prune``, a batch of at
most ``deliveries.PRUNE_BATCH`` events a transaction through the writer) about once a minute,
again a second later while a batch comes back full.
At-least-once: a crash between a post and its settle sends that delivery again after its
lease runs out, with the same ``webhook-id``.

``now`` is an argument: the loop passes its clock's time; tests call ``tick`` with theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from powerdialer import outbound
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import webhooks as sql
from powerdialer.storage.writer import GroupCommitter
from powerdialer.telemetry import hooks
from powerdialer.webhooks import deliveries, signing

log = logging.getLogger(__name__)

RUN_SECONDS = 10.0  # no new post of a run after this long (the lease is deliveries.LEASE)
PRUNE_EVERY = dt.timedelta(minutes=1)  # the retention's pace; a full batch: PRUNE_AGAIN
PRUNE_AGAIN = dt.timedelta(seconds=1)
RETENTION = dt.timedelta(days=30)  # POWERDIALER_WEBHOOK_RETENTION_DAYS's default


@dataclass(frozen=True, slots=True)
class Ticked:
    claimed: int
    delivered: int
    failed: int
    given_up: int
    lags: list[float]  # seconds from each delivered event's creation to its delivery


class Sender:
    def __init__(
        self,
        store: Store,
        writer: GroupCommitter,
        policy: outbound.Policy,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        interval: float = 0.2,
        seed: int | None = None,
        retention: dt.timedelta = RETENTION,
    ) -> None:
        self.store = store
        self.writer = writer
        self.policy = policy
        self.clock = clock
        self.interval = interval
        self.seed = seed
        self.retention = retention
        self._prune_at: dt.datetime | None = None  # None: at the loop's first pass
        self.owner = "snd_" + secrets.token_hex(8)  # this process's leases
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._http: outbound.Client | None = None  # kept-alive connections, made in the loop

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="webhook-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    def wake(self) -> None:
        """Tick now (an event was just queued by a route of this process)."""
        self._wake.set()

    async def _loop(self) -> None:
        busy = False
        while True:
            try:
                now = self.clock()
                # After a tick that found work, claim again at once: the read that asks
                # whether anything is due spares the writer an idle sender's claims.
                due = busy or await asyncio.to_thread(
                    self.store.read, partial(sql.any_due, now=now)
                )
                busy = due and (await self.tick(now)).claimed > 0
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: try again later, never stop
                busy = False
                log.exception("webhook sender tick failed")
            try:
                await self.prune_if_due(self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:  # never in the way of sending: try again in a minute
                self._prune_at = self.clock() + PRUNE_EVERY
                log.exception("webhook retention failed")
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)

    async def prune(self, now: dt.datetime) -> int:
        """Delete a batch of the events older than the retention at ``now`` whose
        deliveries all settled before then (docs/webhooks.md); how many went.  Nothing that
        old: 0, read without taking the writer."""
        old = partial(sql.any_older, cutoff=now - self.retention)
        if not await asyncio.to_thread(self.store.read, old):
            return 0
        return await self.writer.submit(deliveries.Prune(now, self.retention))

    async def prune_if_due(self, now: dt.datetime) -> int | None:
        """``prune`` if its time has come at ``now`` (the loop's pace: ``PRUNE_EVERY``, or
        ``PRUNE_AGAIN`` after a full batch); ``None`` if not yet."""
        if self._prune_at is not None and now < self._prune_at:
            return None
        gone = await self.prune(now)
        self._prune_at = now + (PRUNE_AGAIN if gone >= deliveries.PRUNE_BATCH else PRUNE_EVERY)
        return gone

    async def tick(self, now: dt.datetime) -> Ticked:
        """Claim what is due at ``now``, post it, settle it."""
        runs = await self.writer.submit(deliveries.Claim(self.owner, now))
        claimed = [d for run in runs for d in run]
        if not claimed:
            return Ticked(0, 0, 0, 0, [])
        subs = {d.subscription_id for d in claimed}
        keys = await asyncio.to_thread(
            self.store.read, lambda conn: sql.secrets_of(conn, subs, now)
        )
        posted = await asyncio.gather(*(self._post_run(run, keys, now) for run in runs))
        results = [r for run in posted for r in run]
        done = await self.writer.submit(deliveries.Settle(self.owner, now, results, seed=self.seed))
        lags = [(now - r.delivery.created_at).total_seconds() for r in results if r.tried and r.ok]
        if (m := hooks.active) is not None:  # metrics
            m.webhooks(done.delivered, done.failed - done.given_up, done.given_up, lags)
        return Ticked(len(claimed), done.delivered, done.failed, done.given_up, lags)

    async def _post_run(
        self, run: Sequence[sql.Claimed], keys: dict[int, list[str]], now: dt.datetime
    ) -> list[deliveries.Result]:
        results: list[deliveries.Result] = []
        started = time.monotonic()
        stopped = False
        for delivery in run:
            if stopped or time.monotonic() - started > RUN_SECONDS:
                results.append(deliveries.Result(delivery, tried=False))
                continue
            result = await self._post(delivery, keys.get(delivery.subscription_id, []), now)
            results.append(result)
            stopped = not result.ok
        return results

    async def _post(
        self, delivery: sql.Claimed, keys: list[str], now: dt.datetime
    ) -> deliveries.Result:
        if not keys:
            return deliveries.Result(delivery, True, error="the subscription has no secret")
        headers = signing.headers(keys, delivery.event_id, now, delivery.body)
        started = time.monotonic()
        if self._http is None:
            self._http = outbound.Client(self.policy)
        try:
            answer = await self._http.post(delivery.url, delivery.body.encode(), headers)
        except outbound.OutboundRefused as exc:
            return deliveries.Result(delivery, True, error=str(exc))
        except (OSError, TimeoutError) as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return deliveries.Result(delivery, True, elapsed_ms=elapsed, error=error)
        return deliveries.Result(
            delivery,
            True,
            status=answer.status,
            elapsed_ms=answer.elapsed_ms,
            head=answer.body[: deliveries.HEAD_BYTES],
            retry_after=answer.headers.get("retry-after"),
        )


def policy_of(allow: Sequence[str]) -> outbound.Policy:
    return outbound.Policy(allow=outbound.parse_allow(",".join(allow)))
