"""SQLite's WAL is copied into the database by a thread of its own, never by the writer.

With ``wal_autocheckpoint`` the connection whose commit pushes the WAL past the limit copies
every page of it into the database and fsyncs that, before its commit returns.  That
connection is nearly always the group-commit writer, so every caller waiting on the writer
waited for the copy too: at 64 MiB of WAL the operators' next-contact p99 was 380 ms and one
call took 670 ms (a 200-operator run, BENCHMARKS.md "The dialer"), the copy itself.

So the server runs a :class:`Checkpointer`: a daemon thread with its own connection that
checks, twice a second, how many WAL frames are not in the database yet (two counters in
the WAL index, the ``-shm`` file, whose layout is SQLite's documented file format:
https://www.sqlite.org/walformat.html, "mxFrame" and "nBackfill") and, past
:data:`~powerdialer.storage.engine.CHECKPOINT_BYTES` of them, runs ``PRAGMA
wal_checkpoint(PASSIVE)``.  A passive checkpoint takes no lock that a writer or a reader
waits for: the writer goes on appending to the WAL meanwhile, and starts it again from the
beginning at its next transaction once everything is copied.  Durability is untouched (each
commit is still fsynced to the WAL before it is answered).

The connections' own ``wal_autocheckpoint`` stays, set at four times that size
(``engine.AUTOCHECKPOINT_BYTES``), as the backstop for a process that runs no checkpointer
(the CLI) and for a WAL that a long read keeps from being copied.
"""

from __future__ import annotations

import logging
import struct
import threading
from pathlib import Path

from sqlalchemy import Engine

from powerdialer.storage.engine import CHECKPOINT_BYTES, is_sqlite

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
_MX_FRAME, _N_BACKFILL = 16, 96  # offsets in the WAL index (native byte order)


def pending_frames(shm: Path) -> int | None:
    """WAL frames not yet copied into the database, or ``None`` if the index is unreadable."""
    try:
        with shm.open("rb") as index:
            head = index.read(_N_BACKFILL + 4)
    except OSError:
        return None
    if len(head) < _N_BACKFILL + 4:
        return None
    (mx_frame,) = struct.unpack_from("=I", head, _MX_FRAME)
    (backfilled,) = struct.unpack_from("=I", head, _N_BACKFILL)
    return max(0, int(mx_frame) - int(backfilled))


class Checkpointer:
    """Checkpoints ``engine``'s SQLite WAL past ``threshold`` bytes of frames not yet copied
    (:meth:`run_once`; :meth:`start` runs it every ``interval`` seconds on a thread)."""

    def __init__(
        self,
        engine: Engine,
        *,
        threshold: int = CHECKPOINT_BYTES,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        if not self.possible(engine):
            raise ValueError("a checkpointer needs a SQLite database file")
        self.engine = engine
        self.shm = Path(f"{engine.url.database}-shm")
        self.threshold = threshold
        self.interval = interval
        self._page_size: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def possible(engine: Engine) -> bool:
        """A SQLite database in a file (not in memory)."""
        database = engine.url.database
        return is_sqlite(engine) and bool(database) and database != ":memory:"

    def due(self) -> bool:
        frames = pending_frames(self.shm)
        if frames is None or frames == 0:
            return False
        if self._page_size is None:
            with self.engine.connect() as conn:
                self._page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        return frames * self._page_size >= self.threshold

    def run_once(self) -> bool:
        """Checkpoint if due; ``True`` if it did."""
        if not self.due():
            return False
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a checkpoint that fails now is retried at the next tick
                log.warning("WAL checkpoint failed; retrying", exc_info=True)
