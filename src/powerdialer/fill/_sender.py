"""Sending the planned rows: workers over one :class:`AsyncClient` (which paces every request,
retries included, with its token bucket), at most ``limit.limit`` requests at once (pinned,
or adapted to the far end: see ``_limit.py``), one row a request (``single``: the compatible
endpoint, as the vendor requires) or up to ``batch_size`` (``bulk``).

Every answer is in the journal before the worker that got it sends its next request: a
worker holds its slot until its acknowledgements are written, and the answers of all the
workers that got one in the same turn of the event loop are written in one transaction
(group commit).  So a fill killed at any moment loses at most one request's answers per slot,
exactly the requests that were in flight.

What an answer does to a row:

- accepted / inserted / duplicate / updated: acknowledged, recorded in the journal;
- refused for the row itself (400, 413, 422, another 4xx, a 200 without ``result: true``):
  rejected with the server's code, recorded, reported, never retried;
- 401/403 (the key), 404 (the campaign), 409 ``campaign_archived``: the whole fill stops;
- 409 ``idempotency_in_progress`` (the server died while handling an earlier attempt of the
  row and still holds its key): set aside and sent again at the end, see :meth:`_deferred`;
- no answer, 408, 429, 5xx even after the client's retries: the fill stops, the row stays
  pending for the next run.

Stopping (Ctrl-C, or one of the above) lets requests already on the wire finish and record
their answers; workers that were only waiting (for a token, or before a retry) are cancelled.

Past 300 lines on purpose: sending, retrying and journalling an answer are one protocol (the
rule above); split, it would be in three files.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Literal

from powerdialer.client import (
    AsyncClient,
    AuthenticationError,
    ConflictError,
    NewRow,
    NotFoundError,
    PayloadTooLargeError,
    PowerDialerError,
    RateLimitedError,
    RetryEvent,
    ServerError,
    TransportError,
    ValidationError,
)
from powerdialer.fill._journal import Ack, Journal
from powerdialer.fill._limit import ConcurrencyLimit
from powerdialer.fill._plan import PlannedRow
from powerdialer.fill._wire import Slots, Stopped, WireTracker

__all__ = ["EXIT_ABORTED", "EXIT_AUTH", "SendOptions", "Sender"]

EXIT_ABORTED, EXIT_AUTH = 4, 5
LEASE_PATIENCE = 330.0  # the server takes over a dead request's key after 5 minutes
IN_PROGRESS = "idempotency_in_progress"


@dataclass(frozen=True, slots=True)
class SendOptions:
    run_id: str
    campaign_id: int
    mode: Literal["single", "bulk"] = "single"
    batch_size: int = 1000
    batch_max_bytes: int = 0  # 0: no byte limit known
    idempotency: bool = False
    with_plus: bool = True  # E.164 with "+"; the vendor's article sends digits only
    fresh_keys: bool = False  # the campaign dedupes by number: a stuck key may be replaced


class Sender:
    def __init__(
        self,
        client: AsyncClient,
        tracker: WireTracker,
        journal: Journal,
        options: SendOptions,
        on_progress: Callable[[int], None] = lambda n: None,
        limit: ConcurrencyLimit | None = None,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.journal = journal
        self.options = options
        self.limit = limit or ConcurrencyLimit(1, fixed=True)
        self.slots = Slots(self.limit)
        tracker.limit = self.limit
        tracker.on_change = self.slots.wake
        self.journal_error: Exception | None = None
        self.tally = tracker.tally
        self.on_progress = on_progress
        self.stopping = False
        self.interrupted = False
        self.failure: tuple[int, str] | None = None
        self._rows: Iterator[PlannedRow] = iter(())
        self._pushback: list[PlannedRow] = []
        self._acks: list[Ack] = []  # answered, to be written in this turn's transaction
        self._written: asyncio.Future[None] | None = None  # resolved once they are
        self._workers: list[asyncio.Task[None]] = []
        self._waiting: list[list[PlannedRow]] = []  # set aside: key still in progress
        self._generation: dict[int, int] = {}  # first line of a request -> key generation

    # --- control ---------------------------------------------------------------------------

    def on_retry(self, event: RetryEvent) -> None:
        """The client's retry hook: count, and give up at once when stopping."""
        if self.stopping:
            raise Stopped
        self.tally.retried += 1

    def stop(self) -> None:
        """Send nothing new; let requests on the wire finish."""
        self.stopping = True
        for task in self._workers:
            if task not in self.tracker.on_wire:
                task.cancel()

    def interrupt(self) -> None:
        """Ctrl-C: the first stops cleanly, the second cancels what is on the wire too."""
        if self.interrupted:
            for task in self._workers:
                task.cancel()
            return
        self.interrupted = True
        self.stop()

    def _abort(self, code: int, message: str) -> None:
        if self.failure is None:
            self.failure = (code, message)
        self.stop()

    # --- the run ---------------------------------------------------------------------------

    async def run(self) -> None:
        self._rows = self.journal.pending(self.options.run_id)
        work = self._work_bulk if self.options.mode == "bulk" else self._work_single
        try:
            # One request first: a wrong key or campaign then costs one refused request,
            # not one per connection.
            await self._spawn([work(1)])
            if not self.stopping:
                workers = self.limit.limit if self.limit.fixed else self.limit.maximum
                await self._spawn([work(None) for _ in range(workers)])
            await self._deferred()
        finally:
            self.flush()
        if self.journal_error is not None:
            raise self.journal_error

    async def _spawn(self, jobs: list[Awaitable[None]]) -> None:
        self._workers = [asyncio.ensure_future(job) for job in jobs]
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _deferred(self) -> None:
        """Send again the requests whose key the server still held "in progress": at once
        under a new key where the campaign dedupes by number, else under the same key every
        few seconds until the server takes the dead request over (up to its 5 minute lease).
        """
        deadline = time.monotonic() + LEASE_PATIENCE
        while self._waiting and not self.stopping:
            waiting, self._waiting = self._waiting, []
            if not self.options.fresh_keys:
                if time.monotonic() > deadline:
                    self._abort(
                        EXIT_ABORTED,
                        f"{sum(map(len, waiting))} rows wait for the server to finish earlier "
                        "attempts of them: run the same command again in a few minutes.",
                    )
                    return
                await asyncio.sleep(5.0)
            for rows in waiting:
                if self.options.fresh_keys:
                    self._generation[rows[0].line] = self._generation.get(rows[0].line, 0) + 1
            await self._spawn([self._send(rows) for rows in waiting])

    def flush(self) -> None:
        """Write the answers not yet written, in one transaction, and wake their workers.

        The write is SQLite's commit in WAL mode: with ``synchronous=NORMAL`` (the default) it
        is a write() into the operating system's cache, which outlives the process (kill -9);
        with ``--fsync`` (``synchronous=FULL``) it waits for the disk as well."""
        acks, self._acks = self._acks, []
        written, self._written = self._written, None
        try:
            if acks and self.journal_error is None:
                self.journal.record(self.options.run_id, acks)
        except Exception as exc:  # sqlite3.Error, most likely (disk full, file removed)
            self.journal_error = exc  # raised by run(); the rows stay pending
            self.stop()
        finally:
            if written is not None and not written.done():
                written.set_result(None)

    async def _record(self, acks: list[Ack]) -> None:
        """Count the answers, and return once they are in the journal."""
        if not acks:
            return
        for ack in acks:
            if ack.state == "acked":
                self.tally.acked += 1
                key = ack.outcome or "accepted"
                self.tally.outcomes[key] = self.tally.outcomes.get(key, 0) + 1
            else:
                self.tally.rejected += 1
        self._acks.extend(acks)
        self.on_progress(len(acks))
        written = self._written
        if written is None:
            # Written at the end of this turn of the event loop, with the answers of every
            # other worker that got one in the same turn.
            loop = asyncio.get_running_loop()
            written = self._written = loop.create_future()
            loop.call_soon(self.flush)
        await asyncio.shield(written)

    def classify(self, rows: list[PlannedRow], exc: PowerDialerError) -> list[Ack]:
        """What a final error means for these rows (see the module docstring): the answers
        to record (rejections of the rows' own fault), or none."""
        campaign = self.options.campaign_id
        if isinstance(exc, AuthenticationError):
            self._abort(
                EXIT_AUTH, f"the server refused the credentials ({exc.code}): {exc.message}"
            )
        elif isinstance(exc, NotFoundError):
            self._abort(
                EXIT_ABORTED,
                f"campaign {campaign} was not found ({exc.code}: {exc.message}); check --campaign "
                "and --project (a campaign of another project is 'not found' too).",
            )
        elif isinstance(exc, ConflictError) and exc.code == IN_PROGRESS:
            self._waiting.append(rows)
        elif isinstance(exc, TransportError):
            self._abort(
                EXIT_ABORTED,
                f"no answer from the server even after retries ({exc.code}: {exc.message}); "
                "run the same command again to send the rest.",
            )
        elif isinstance(exc, ServerError | RateLimitedError | ConflictError):
            self._abort(
                EXIT_ABORTED,
                f"the server did not take rows even after retries ({exc.code}: {exc.message}); "
                "run the same command again to send the rest.",
            )
        else:  # the row's own fault: final
            return [
                Ack(r.line, "rejected", None, None, exc.code, exc.reason, exc.message) for r in rows
            ]
        return []

    def _key(self, rows: list[PlannedRow]) -> str | None:
        """Derived from the journal's run id and the rows, so a run resumed after a crash
        sends a request again under the key it had (the server then replays its answer)."""
        if not self.options.idempotency:
            return None
        generation = self._generation.get(rows[0].line, 0)
        suffix = f"-{generation}" if generation else ""
        if self.options.mode == "single":
            return f"{self.options.run_id}-{rows[0].line}{suffix}"
        lines = ",".join(str(r.line) for r in rows)
        digest = hashlib.sha256(f"{self.options.run_id}:bulk:{lines}".encode()).hexdigest()
        return digest[:40] + suffix

    def _phone(self, row: PlannedRow) -> str:
        return row.phone_e164 if self.options.with_plus else row.phone_e164.lstrip("+")

    # --- workers ---------------------------------------------------------------------------

    async def _work_single(self, limit: int | None) -> None:
        while not self.stopping and limit != 0:
            limit = None if limit is None else limit - 1
            await self.slots.acquire()
            try:
                row = next(self._rows, None) if not self.stopping else None
                if row is None:
                    return
                await self._send([row])
            finally:
                self.slots.release()

    async def _work_bulk(self, limit: int | None) -> None:
        while not self.stopping and limit != 0:
            limit = None if limit is None else limit - 1
            await self.slots.acquire()
            try:
                batch = self._next_batch() if not self.stopping else []
                if not batch:
                    return
                await self._send(batch)
            finally:
                self.slots.release()

    def _next_batch(self) -> list[PlannedRow]:
        size_limit = self.options.batch_size
        batch = self._pushback[:size_limit]
        del self._pushback[:size_limit]
        batch.extend(islice(self._rows, size_limit - len(batch)))
        limit = self.options.batch_max_bytes * 3 // 4  # leave room for JSON overhead
        if limit and batch:
            size, cut = 0, len(batch)
            for i, row in enumerate(batch):
                size += (
                    64 + len(row.phone_raw) + 2 * len(row.fio or "") + len(row.external_id or "")
                )
                size += sum(len(k) + 2 * len(v) + 8 for k, v in row.fields.items())
                if size > limit and i > 0:
                    cut = i
                    break
            if cut < len(batch):  # the rest goes first into the next batch
                self._pushback[:0] = batch[cut:]
                batch = batch[:cut]
        return batch

    async def _send(self, rows: list[PlannedRow]) -> None:
        if self.options.mode == "single":
            await self._send_one(rows[0])
        else:
            await self._send_batch(rows)

    async def _send_one(self, row: PlannedRow) -> None:
        try:
            await self.client.add_row(
                self.options.campaign_id,
                self._phone(row),
                row.fio,
                idempotency_key=self._key([row]),
            )
        except Stopped:
            return
        except PowerDialerError as exc:
            await self._record(self.classify([row], exc))
            return
        await self._record([Ack(row.line, "acked", "accepted")])

    async def _send_batch(self, batch: list[PlannedRow]) -> None:
        rows = [NewRow(self._phone(r), r.fio, r.external_id, r.fields) for r in batch]
        try:
            result = await self.client.add_rows(
                self.options.campaign_id, rows, idempotency_key=self._key(batch)
            )
        except Stopped:
            return
        except (PayloadTooLargeError, ValidationError) as exc:
            if len(batch) == 1:
                await self._record(self.classify(batch, exc))
                return
            half = len(batch) // 2  # too big, or one bad row spoils it: bisect
            await self._send_batch(batch[:half])
            if not self.stopping:
                await self._send_batch(batch[half:])
            return
        except PowerDialerError as exc:
            await self._record(self.classify(batch, exc))
            return
        by_index = {r.index: r for r in result.results}
        acks: list[Ack] = []
        for index, row in enumerate(batch):
            answer = by_index.get(index)
            if answer is None:
                continue  # no answer for it: stays pending, sent again next run
            if answer.status == "rejected":
                error = answer.error
                acks.append(
                    Ack(row.line, "rejected", None, None,
                        error.code if error else "rejected",
                        error.reason if error else None,
                        error.message if error else "the server rejected the row")
                )  # fmt: skip
            else:
                acks.append(Ack(row.line, "acked", answer.status, answer.id))
        await self._record(acks)
