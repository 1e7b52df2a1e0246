"""Group commit: many requests, one durable transaction.

Each request hands its work to a single writer thread and awaits a future.  The thread takes
everything that has queued up (up to ``max_batch``), applies it in ONE transaction, commits
(an fsync on SQLite with ``synchronous=FULL``; a WAL flush on PostgreSQL), and only then
resolves the futures.  So every acknowledgement still means "on disk", but one fsync pays for
a whole batch: that is where the throughput comes from, never from weaker durability.

One writer per process also matches SQLite's single-writer nature (no lock waits between
our own connections); so every kind of write that wants group commit (a compatible row, a bulk
request, an import chunk) goes through the same writer, each with its own ``apply`` function
chosen by the payload's type.  If a batch fails as a whole, its items are retried one by one
in their own transactions, so a single bad item cannot fail its neighbours.

The hand-over is a ``queue.SimpleQueue`` (implemented in C: no Python-level lock on the event
loop's side) and one ``call_soon_threadsafe`` per batch on the way back.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

P = TypeVar("P")  # an item's payload
R = TypeVar("R")  # its result

# apply() returns one result per payload; an Exception instance is that item's failure.
ApplyFn = Callable[[Connection, Sequence[P]], Sequence[R | Exception]]

_STOP = object()


class StorageUnavailable(Exception):
    """The database could not commit; the item was NOT stored and may be retried."""


class GroupCommitter(Generic[P, R]):
    def __init__(
        self, engine: Engine, appliers: Mapping[type, ApplyFn[Any, Any]], *, max_batch: int = 2000
    ) -> None:
        self._engine = engine
        self._appliers = dict(appliers)
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Connection | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="powerdialer-writer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._stopping = True
        self._queue.put(_STOP)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    async def submit(self, payload: P) -> R:
        if type(payload) not in self._appliers:
            raise TypeError(f"no apply function for {type(payload).__name__}")
        if self._loop is None or self._stopping:
            raise StorageUnavailable("the server is not accepting writes (starting or stopping)")
        future: asyncio.Future[R] = self._loop.create_future()
        self._queue.put((payload, future))
        return await future

    def _take_batch(self) -> tuple[list[tuple[P, asyncio.Future[R]]], bool]:
        """Block for one item, then take whatever else is already waiting, up to
        ``max_batch`` rows: a payload that carries many rows (a bulk request) says so in a
        ``weight`` attribute, so one transaction stays bounded however requests mix."""
        batch: list[tuple[P, asyncio.Future[R]]] = []
        rows = 0
        item = self._queue.get()
        while True:
            if item is _STOP:
                return batch, True
            batch.append(item)
            rows += getattr(item[0], "weight", 1)
            if rows >= self._max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            batch, stop = self._take_batch()
            if batch:
                results = self._commit([payload for payload, _ in batch])
                assert self._loop is not None
                self._loop.call_soon_threadsafe(_resolve, [f for _, f in batch], results)
        if self._conn is not None:
            self._conn.close()

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self._engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        return self._conn

    def _transaction(self, payloads: Sequence[P]) -> list[Any]:
        conn = self._connection()
        try:
            with conn.begin():
                results = self._apply(conn, payloads)
        except DBAPIError as exc:
            # Drop a connection that is broken (database restart, network); a mere
            # constraint or data error leaves it usable (the transaction was rolled back).
            if exc.connection_invalidated or conn.invalidated:
                self._conn = None
            raise
        return results

    def _apply(self, conn: Connection, payloads: Sequence[P]) -> list[Any]:
        """Hand each kind of payload to its own apply function, in one transaction; results
        come back in the payloads' order."""
        groups: dict[type, list[int]] = {}
        for index, payload in enumerate(payloads):
            groups.setdefault(type(payload), []).append(index)
        results: list[Any] = [None] * len(payloads)
        for kind, indexes in groups.items():
            answers = self._appliers[kind](conn, [payloads[i] for i in indexes])
            if len(answers) != len(indexes):
                raise RuntimeError(f"apply for {kind.__name__} must answer every payload")
            for index, answer in zip(indexes, answers, strict=True):
                results[index] = answer
        return results

    def _commit(self, payloads: list[P]) -> list[Any]:
        try:
            return self._transaction(payloads)
        except Exception:
            if len(payloads) == 1:
                log.exception("write failed")
                return [StorageUnavailable("the database could not store the row")]
        log.warning("batch of %d failed; retrying its items one by one", len(payloads))
        return [self._commit([payload])[0] for payload in payloads]


def _resolve(futures: list[asyncio.Future[Any]], results: list[Any]) -> None:
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
