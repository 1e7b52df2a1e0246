"""Flush SQLite's WAL to disk in the background while an import commits without fsyncs.

An import's own transactions commit with ``synchronous=NORMAL`` (``storage/writer.py``): the
WAL frames they write sit in the OS page cache until something syncs the file.  That
something would otherwise be the next live row's commit, which would then wait for every
frame written since the last sync (seconds of an import's writes: p99 of the live endpoint
went from 0.2 s to 1 s during a 1M-row import; benchmarks/results/import.md).  So after each
such commit this thread syncs the WAL file itself, beside the writer thread that goes on
with the next transaction: a live commit finds at most the last transaction unsynced.

An ``fdatasync`` on any descriptor of a file flushes all of that file's dirty pages, so this
needs no part of SQLite; it changes nothing that SQLite promises, it only does early what a
later commit or checkpoint would do anyway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

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
