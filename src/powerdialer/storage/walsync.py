"""Commits without an fsync of their own (an import's), and SQLite's WAL flushed to disk in
the background meanwhile.

An import's own transactions commit with ``synchronous=NORMAL`` (:func:`transaction`, which
``storage/writer.py`` uses): the WAL frames they write sit in the OS page cache until
something syncs the file.  That something would otherwise be the next live row's commit,
which would then wait for every frame written since the last sync (seconds of an import's
writes: p99 of the live endpoint went from 0.2 s to 1 s during a 1M-row import;
benchmarks/results/import.md).  So after each such commit this thread syncs the WAL file
itself, beside the writer thread that goes on with the next transaction: a live commit finds
at most the last transaction unsynced.

An ``fdatasync`` on any descriptor of a file flushes all of that file's dirty pages, so this
needs no part of SQLite; it changes nothing that SQLite promises, it only does early what a
later commit or checkpoint would do anyway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

from sqlalchemy import Connection

log = logging.getLogger(__name__)


class WalFlusher:
    """A thread that syncs ``<database>-wal`` each time it is poked (at most one sync
    pending: pokes during a sync ask for one more, not one each)."""

    def __init__(self, database_path: str) -> None:
        self._path = f"{database_path}-wal"
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="powerdialer-wal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                return
            try:
                fd = os.open(self._path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # no WAL yet (or the last connection removed it)
            try:
                os.fdatasync(fd)
            except OSError:  # Linux reports the error to SQLite's own next sync of the file too
                log.warning("could not flush %s", self._path, exc_info=True)
            finally:
                with contextlib.suppress(OSError):
                    os.close(fd)


@contextlib.contextmanager
def transaction(conn: Connection, relaxed: bool) -> Iterator[None]:
    """One transaction on ``conn``.  ``relaxed``: its payloads need no durability of their
    own (an import's rows and progress), so it commits without an fsync:
    ``synchronous=NORMAL`` on SQLite, ``synchronous_commit = off`` on PostgreSQL.

    Nothing is answered on the strength of such a commit.  The import job's end ("done" or
    "failed") is a durable write, and its fsync (PostgreSQL: its WAL flush) makes every
    earlier commit durable too.  A power loss before that loses the last of these commits,
    never one in the middle: the WAL is replayed up to its first incomplete commit.  So the
    job's counters, stored by such commits too, never count rows that did not survive; the
    job itself is left unfinished, and failed at the next start."""
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
