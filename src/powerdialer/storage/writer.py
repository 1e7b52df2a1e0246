"""Group commit: many requests, one durable transaction.  (Past 300 lines on purpose: one
class, the writer, whose batching, lanes and retries are read together.)

Each request hands its work to a single writer thread and awaits a future.  The thread takes
everything that has queued up (up to ``max_batch``), applies it in ONE transaction, commits,
and the futures are resolved once the commit is on disk: on PostgreSQL when ``COMMIT``
returns (its WAL flush); on SQLite after the ``WalFlusher`` thread's next sync of the WAL,
while the writer already applies the next batch (``walsync``: the cycle is the longer of
apply and fsync, not their sum).  So every acknowledgement still means "on disk", but one
fsync pays for a whole batch: that is where the throughput comes from, never from weaker
durability.

One writer per process also matches SQLite's single-writer nature (no lock waits between
our own connections); so every kind of write that wants group commit (a compatible row, a bulk
request, an import chunk) goes through the same writer, each with its own ``apply`` function
chosen by the payload's type (:mod:`~powerdialer.storage.payload`: the ``Payload`` base, and
each package's ``WRITES``).  If a batch fails as a whole, its items are retried one by one in
their own transactions, so a single bad item cannot fail its neighbours.

**A connection that broke** (a database restart, a fail-over) is dropped, and the batch, not
each of its items, is tried once more on a new connection: a database that is down costs a
batch one connection attempt, not one per item (each may wait out libpq's
``connect_timeout`` on a host that is gone).  If it broke during the COMMIT, though, the
commit may have happened (on PostgreSQL with a synchronous standby, the primary lost after the
standby had the commit but before its answer came back): such a batch is never tried again
by the writer, since a second insert could store a row twice (the "keep" policy) or an
outcome twice; it is answered ``StorageUnavailable`` with ``uncertain`` set, and the client,
told so, decides.

**Which writes come here** (docs/architecture.md).  Rare CRUD (a campaign created or renamed,
a user, a key) may use ``Store.write``, its own short transaction.  What is hot, or must be
serial, is a payload of this writer: rows, idempotency claims, import progress, and the
dialer's leases ("the next number"), call outcomes and the do-not-call check made at lease
time.  On SQLite (one server process) this is the only writer, so leases never wait for the
write lock, and many share one transaction and one fsync; on PostgreSQL, where several server
processes each have a writer, the apply function takes its rows with ``SELECT … FOR UPDATE
SKIP LOCKED``, so they hand out different numbers without waiting on each other.  A webhook's
event is written by the apply function in the transaction of the change it reports (an
outbox row) and sent only after the commit, by a sender reading the outbox: never an event
for a change that was rolled back, nor a change without its event.

The hand-over is a ``queue.SimpleQueue`` (implemented in C: no Python-level lock on the event
loop's side) and one ``call_soon_threadsafe`` per batch on the way back.

**Background writes** (a payload class with ``background = True``: an import job's rows) are
the exception to "small transactions".  Several of them share one transaction, up to
``max_background`` rows, because on SQLite every commit rewrites each index page it touched
to the WAL, and an import's random numbers touch most of a big campaign's unique index in
every commit: five 10,000-row writes in one transaction cost far less than five commits
(benchmarks/results/import.md).  They never make the live API wait for more than one of
them, though: a transaction with live rows takes none (or one, if the one before took none,
so that a steady stream of live rows cannot starve an import), and before each background
payload after the first the writer checks whether a foreground one has been queued; if so, it
commits what it has and sets the rest aside for the next transaction, which takes the new
arrivals first.  A ``patient`` foreground payload (the import job's own progress update,
which nobody waits on) counts as neither: it rides along with the background payloads.

On SQLite every transaction commits without an fsync of its own (``walsync.transaction``);
a ``WalFlusher`` thread syncs the WAL right after each, beside the writer, and a batch with
a durable payload in it is answered after that sync.  Those that say ``durable = False``
(background payloads, the progress update) are answered at their commit.  On PostgreSQL
those commit with ``synchronous_commit = off``, the rest with the server's own flush.

**A lane for background writes** (``background_lane``; the app's on PostgreSQL only, where two
transactions may write at once): background and patient payloads go to a second writer, its
own thread and connection, so a live row never waits behind an import's transaction (p99
200 ms during an import even with 2,000-row ones: BENCHMARKS.md); each lane keeps its order.

**Lanes of their own** (``lanes``; the app's on PostgreSQL only): a payload class whose
``lane`` is named there goes to a writer of that name, its own thread and connection.  The
dialer's payloads (a lease, a renewal, a release, an outcome) have the lane ``dialer``: on
PostgreSQL, where they lock their rows and their numbers, they need no single writer, and in
the main one each lease's round trips (about nine) held up the compatible endpoint's rows
(its ratio halved while 200 operators worked: BENCHMARKS.md "The dialer").  On SQLite,
which has one writer however many threads ask, every payload keeps to the one writer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from powerdialer.storage import walsync
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.walsync import WalFlusher
from powerdialer.telemetry import hooks

log = logging.getLogger(__name__)

R = TypeVar("R")  # what a payload's write answers

_STOP = object()
_DEFERRED = object()  # a background payload set aside for the next transaction
_Item = tuple[Payload[Any], asyncio.Future[Any]]  # a payload and the future it answers


class StorageUnavailable(Exception):
    """The database could not commit; the item was NOT stored and may be retried — unless
    ``uncertain``: the connection broke during the COMMIT, so it may have been stored."""

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class _ConnectionLost(Exception):
    """The writer's connection broke (or none could be made) during a transaction;
    ``in_commit``: at the COMMIT, after every statement had run."""

    def __init__(self, cause: Exception, *, in_commit: bool) -> None:
        super().__init__(str(cause))
        self.in_commit = in_commit


class GroupCommitter:
    def __init__(
        self,
        engine: Engine,
        writes: Writes,
        *,
        max_batch: int = 2000,
        max_background: int = 50_000,
        background_lane: bool = False,  # see "A lane for background writes"
        lanes: Collection[str] = (),  # see "Lanes of their own"
        thread_name: str = "powerdialer-writer",
        wal_sync: Callable[[int], None] = os.fdatasync,  # tests: a disk that is slow or fails
    ) -> None:
        self._engine = engine
        self._appliers = dict(writes)
        self._max_batch = max_batch
        self._max_background = max_background
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._set_aside: list[_Item] = []
        # Foreground payloads queued and taken: each counter has one writing thread (the
        # event loop's, the writer's), so their difference is safe to read without a lock.
        self._queued = 0
        self._taken = 0
        self._owed = False  # the last transaction left every background payload for later
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Connection | None = None
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        on_file = database is not None and database not in ("", ":memory:")
        self._flusher = WalFlusher(database, wal_sync) if database and on_file else None
        self._pipelined = False  # answers wait for the flusher's sync (SQLite in WAL mode)
        self._thread_name = thread_name
        self._lane = (
            GroupCommitter(engine, writes, max_background=max_background, thread_name="pd-lane")
            if background_lane
            else None
        )
        self._lanes = {
            name: GroupCommitter(engine, writes, max_batch=max_batch, thread_name=f"pd-{name}")
            for name in lanes
        }

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()
        if self._flusher is not None:
            self._flusher.start()
        if self._lane is not None:
            self._lane.start()
        for lane in self._lanes.values():
            lane.start()

    async def stop(self) -> None:
        """Finish what is queued, then stop the threads."""
        if self._lane is not None:
            await self._lane.stop()
        for lane in self._lanes.values():
            await lane.stop()
        self._stopping = True
        self._queue.put(_STOP)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._flusher is not None:  # after the writer: its last answers wait for a sync
            await asyncio.to_thread(self._flusher.stop)
            await asyncio.sleep(0)  # run the answers that sync scheduled on this loop

    async def submit(self, payload: Payload[R]) -> R:
        return await self.enqueue(payload)

    def enqueue(self, payload: Payload[R]) -> asyncio.Future[R]:
        """Queue ``payload`` now (payloads are stored in the order they are queued); the
        future answers once it is committed."""
        if type(payload) not in self._appliers:
            raise TypeError(f"no apply function for {type(payload).__name__}")
        if self._lanes and payload.lane in self._lanes:
            return self._lanes[payload.lane].enqueue(payload)
        if self._lane is not None and not _urgent(payload):
            return self._lane.enqueue(payload)
        if self._loop is None or self._stopping:
            raise StorageUnavailable("the server is not accepting writes (starting or stopping)")
        future: asyncio.Future[R] = self._loop.create_future()
        if _urgent(payload):
            self._queued += 1
        self._queue.put((payload, future))
        return future

    def _take_batch(self) -> tuple[list[_Item], bool]:
        """Block for one item (unless payloads were set aside), then take whatever else is
        already waiting, up to ``max_batch`` rows: a payload that carries many rows (a bulk
        request) says so in its ``weight``, so one transaction stays bounded however
        requests mix.  Background payloads do not count (``_apply`` bounds them), so a live
        row queued behind an import's writes is always taken; they come after the others,
        the set-aside ones first."""
        batch: list[_Item] = []
        background, self._set_aside = self._set_aside, []
        rows = 0
        try:
            item = self._queue.get_nowait() if background else self._queue.get()
        except queue.Empty:
            return background, False
        while True:
            if item is _STOP:
                return batch + background, True
            payload = item[0]
            if payload.background:
                background.append(item)
            else:
                batch.append(item)
                rows += payload.weight
                if not payload.patient:
                    self._taken += 1
            if rows >= self._max_batch:
                return batch + background, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch + background, False

    def _run(self) -> None:
        stop = False
        while not stop or self._set_aside:
            batch, stopping = self._take_batch()
            stop = stop or stopping
            if batch and (m := hooks.active) is not None:  # metrics (off: a no-op)
                m.writer_batch(self._thread_name, len(batch), self._queue.qsize())
            if batch:
                results = self._commit([payload for payload, _ in batch])
                done: list[tuple[asyncio.Future[Any], Any]] = []
                durable = False
                for item, result in zip(batch, results, strict=True):
                    if result is _DEFERRED:
                        self._set_aside.append(item)
                    else:
                        done.append((item[1], result))
                        durable = durable or item[0].durable
                if done:
                    self._answer([f for f, _ in done], [r for _, r in done], durable)
        if self._conn is not None:
            self._conn.close()

    def _answer(
        self, futures: list[asyncio.Future[Any]], results: list[Any], durable: bool
    ) -> None:
        """Resolve a committed batch's futures: at once, or (SQLite, a durable payload among
        them) once the WAL sync that follows the commit is done."""
        loop = self._loop
        assert loop is not None
        if not (durable and self._pipelined and self._flusher is not None):
            loop.call_soon_threadsafe(_resolve, futures, results)
            return

        def synced(error: OSError | None) -> None:
            answers = results
            if error is not None:  # committed, but not known to be on disk: not "stored"
                failed = StorageUnavailable("the database could not sync its log to disk")
                answers = [failed if not isinstance(r, BaseException) else r for r in results]
            loop.call_soon_threadsafe(_resolve, futures, answers)

        self._flusher.after_sync(synced)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = None  # none until one is made: a failed attempt leaves none
            self._conn = self._engine.connect().execution_options(sqlite_begin="IMMEDIATE")
            if self._flusher is not None:  # the flusher's sync vouches for WAL frames only
                raw = self._conn.connection.dbapi_connection
                assert raw is not None
                mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
                self._pipelined = str(mode).lower() == "wal"
        return self._conn

    def _transaction(self, payloads: Sequence[Payload[Any]]) -> list[Any]:
        try:
            conn = self._connection()
        except DBAPIError as exc:  # no server takes connections (down, or mid-fail-over)
            raise _ConnectionLost(exc, in_commit=False) from exc
        relaxed = self._pipelined or not any(payload.durable for payload in payloads)
        applied = False
        try:
            with walsync.transaction(conn, relaxed):
                results = self._apply(conn, payloads)
                applied = True  # what fails from here on fails in the COMMIT
            if relaxed and self._flusher is not None:
                self._flusher.poke()
        except DBAPIError as exc:
            # Drop a connection that is broken (database restart, network); a mere
            # constraint or data error leaves it usable (the transaction was rolled back).
            if exc.connection_invalidated or conn.invalidated:
                self._conn = None
                raise _ConnectionLost(exc, in_commit=applied) from exc
            raise
        except conn.dialect.loaded_dbapi.Error as exc:
            # The driver's own error, unwrapped: walsync's PRAGMAs go to the SQLite driver
            # directly (outside any transaction).  A closed connection is as broken there.
            if not conn.dialect.is_disconnect(exc, None, None):
                raise
            conn.invalidate(exc)
            self._conn = None
            raise _ConnectionLost(exc, in_commit=applied) from exc
        return results

    def _apply(self, conn: Connection, payloads: Sequence[Payload[Any]]) -> list[Any]:
        """Hand each kind of payload to its own apply function, in one transaction; results
        come back in the payloads' order.  Background payloads go one at a time, after the
        rest, up to ``max_background`` rows.  A transaction that carries urgent payloads takes
        none, unless the one before it had to leave them all (then one, so that imports are
        not starved by a steady stream of live rows); once an urgent payload waits in the
        queue the rest answer ``_DEFERRED``: they go in the next transaction, after the new
        arrivals."""
        groups: dict[type[Payload[Any]], list[int]] = {}
        background: list[int] = []
        urgent = False
        for index, payload in enumerate(payloads):
            if payload.background:
                background.append(index)
            else:
                groups.setdefault(type(payload), []).append(index)
                urgent = urgent or not payload.patient
        results: list[Any] = [None] * len(payloads)
        for kind, indexes in groups.items():
            self._apply_kind(conn, kind, indexes, payloads, results)
        rows = 0
        owed, self._owed = self._owed, False
        for position, index in enumerate(background):
            if position == 0:
                stop = urgent and not owed
            else:
                waiting = self._queued != self._taken
                stop = urgent or waiting or rows >= self._max_background
            if stop:
                for later in background[position:]:
                    results[later] = _DEFERRED
                self._owed = position == 0
                break
            self._apply_kind(conn, type(payloads[index]), [index], payloads, results)
            rows += payloads[index].weight
        return results

    def _apply_kind(
        self,
        conn: Connection,
        kind: type[Payload[Any]],
        indexes: list[int],
        payloads: Sequence[Payload[Any]],
        results: list[Any],
    ) -> None:
        answers = self._appliers[kind](conn, [payloads[i] for i in indexes])
        if len(answers) != len(indexes):
            raise RuntimeError(f"apply for {kind.__name__} must answer every payload")
        for index, answer in zip(indexes, answers, strict=True):
            results[index] = answer

    def _commit(self, payloads: list[Payload[Any]], *, again: bool = False) -> list[Any]:
        """Commit ``payloads`` in one transaction, or answer each why not (see "A connection
        that broke" above); ``again``: this is the batch's try on a new connection."""
        try:
            return self._transaction(payloads)
        except _ConnectionLost as lost:
            if lost.in_commit:
                log.warning(
                    "connection lost in the COMMIT of %d payload(s): %s", len(payloads), lost
                )
                reason = "the database connection broke while the write was committed"
                return [StorageUnavailable(reason, uncertain=True) for _ in payloads]
            if again:
                log.warning("database unavailable, %d payload(s) refused: %s", len(payloads), lost)
                return [StorageUnavailable("the database is unavailable") for _ in payloads]
            return self._commit(payloads, again=True)
        except Exception:
            if len(payloads) == 1:
                log.exception("write failed")
                return [StorageUnavailable("the database could not store the row")]
        log.warning("batch of %d failed; retrying its items one by one", len(payloads))
        results: list[Any] = []
        for payload in payloads:
            if results and self._conn is None and isinstance(results[-1], StorageUnavailable):
                # The connection went mid-way: the rest are refused, not each tried on a
                # connection of its own.
                results.append(StorageUnavailable("the database is unavailable"))
            else:
                results.append(self._commit([payload], again=again)[0])
        return results


def _urgent(payload: Payload[Any]) -> bool:
    """A foreground payload that someone waits on (not a ``patient`` one: an import job's own
    progress update), so background payloads must not hold up its commit."""
    return not payload.background and not payload.patient


def _resolve(futures: list[asyncio.Future[Any]], results: list[Any]) -> None:
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
