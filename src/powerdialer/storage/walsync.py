"""SQLite's WAL flushed to disk by a thread of its own, beside the writer: every commit of the
server's writer is made without an fsync of its own, and what waits for durability waits for
this thread.

**Why.**  With ``synchronous=FULL`` each commit fsyncs the WAL inside the writer's turn, so
the writer's cycle is "apply a batch, then wait for the disk", and the next batch's apply
waits for the last one's fsync.  Instead the writer commits with ``synchronous=NORMAL``
(:func:`transaction`) and goes straight on to the next batch, while this thread syncs the
WAL; a batch that carries durable payloads (a compatible row, a lease, an outcome: anyone
who will be told "stored") is answered only after a sync that *began after its commit*
(:meth:`WalFlusher.after_sync`).  The cycle becomes the longer of the two, not their sum,
worth +8–20 % of the compatible endpoint's throughput on this project's benchmark machine
(BENCHMARKS.md, "Fourth session").

**Why this is as durable as FULL.**  An ``fdatasync`` on any descriptor of a file flushes
all of that file's dirty pages; a commit's WAL frames are in the file before its
``COMMIT`` returns, so a sync that starts after that covers them.  Nothing is answered
before that sync returns.  Other connections may read a commit before it is on disk (as a
reader of any database may see a commit its writer has not yet been told about); a power
loss then loses a *suffix* of commits, never one in the middle: the WAL is replayed up to
its first incomplete frame, and every answered commit is before it.  Checkpoints are
unchanged: with ``synchronous=NORMAL`` SQLite syncs the WAL before copying it and the
database file after.

**Imports** (payloads with ``durable = False``) are answered at their commit, as before;
their WAL is synced in the background all the same, so a live commit's sync never has
seconds of an import's frames to write (p99 of the live endpoint went from 0.2 s to 1 s
during a 1M-row import before: benchmarks/results/import.md).  The import job's end
("done" or "failed") is a durable write, and its sync makes every earlier commit durable
too.  A power loss before that leaves the job unfinished, and it is failed at the next
start; its counters, stored by the same commits, never count rows that did not survive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Connection

log = logging.getLogger(__name__)


Synced = Callable[[OSError | None], None]  # told once its sync is done (None) or failed


class WalFlusher:
    """A thread that syncs ``<database>-wal`` each time it is poked (at most one sync
    pending: pokes during a sync ask for one more, not one each), and then tells those who
    asked to hear of it (:meth:`after_sync`).  ``sync`` is ``os.fdatasync`` but in tests."""

    def __init__(self, database_path: str, sync: Callable[[int], None] = os.fdatasync) -> None:
        self._path = f"{database_path}-wal"
        self._sync = sync
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._waiting: list[Synced] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="powerdialer-wal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wanted.set()

    def after_sync(self, told: Synced) -> None:
        """Call ``told`` (on this thread) once a sync that begins after this call is done:
        with ``None``, or with the ``OSError`` the sync raised, in which case nothing the
        caller committed may be called durable."""
        with self._lock:
            self._waiting.append(told)
        self._wanted.set()

    def stop(self) -> None:
        """Stop after one last sync for whoever still waits."""
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            with self._lock:  # taken BEFORE the sync: theirs began after their commits
                waiting, self._waiting = self._waiting, []
            error = self._flush()
            for told in waiting:
                try:
                    told(error)
                except Exception:  # one broken listener must not strand the others
                    log.exception("a WAL sync listener failed")
            if self._stopping:
                with self._lock:
                    if not self._waiting:
                        return

    def _flush(self) -> OSError | None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except FileNotFoundError as exc:
            # Our writer keeps a connection open, so in WAL mode the file exists after any
            # commit; without it there is nothing to vouch for.
            return exc
        try:
            self._sync(fd)
        except OSError as exc:  # Linux reports it to SQLite's own next sync of the file too
            log.error("could not flush %s: %s", self._path, exc)
            return exc
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)
        return None


@contextlib.contextmanager
def transaction(conn: Connection, relaxed: bool) -> Iterator[None]:
    """One transaction on ``conn``.  ``relaxed``: it commits without an fsync of its own,
    ``synchronous=NORMAL`` on SQLite (the writer then answers its durable payloads after a
    :class:`WalFlusher` sync), ``synchronous_commit = off`` on PostgreSQL (only for payloads
    that need no durability of their own: an import's rows and progress)."""
    if not relaxed or conn.dialect.name != "sqlite":
        with conn.begin():
            if relaxed:
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield
        return
    raw = conn.connection.dbapi_connection  # before BEGIN: SQLite refuses it inside one
    assert raw is not None
    raw.execute("PRAGMA synchronous=NORMAL")
    try:
        with conn.begin():
            yield
    finally:
        raw.execute("PRAGMA synchronous=FULL")
