"""Whether this instance can do its work: write to its database and to its data directory.

A load balancer probes ``GET /healthz`` often, so a check's answer is kept for
``CACHE_SECONDS`` (probes arriving meanwhile share it, and so do probes that arrive while a
check runs): a failure, and a recovery, show at most that late, and the probes cost at most
one database commit and one small file write a second, whatever their rate.  The database
write is its own one-statement transaction beside the group-commit writer (on SQLite it waits
for the writer's lock like any writer; on PostgreSQL it locks one row nobody else writes but
other instances' probes, so it cannot deadlock with the rows' writes).  A SELECT would not
do: a database that answers reads but refuses writes (disk full, read-only file or server)
takes no rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from powerdialer.importing.uploads import instance_dir
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage import health as sql

CACHE_SECONDS = 1.0
TIMEOUT_SECONDS = 5.0  # a write not committed by then counts as a failure


@dataclass(frozen=True, slots=True)
class Health:
    database: str  # "ok" or "unavailable"
    data_dir: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "status": "ok" if self.ok else "unavailable",
            "database": self.database,
            "data_dir": self.data_dir,
        }
        if self.reason is not None:
            answer["reason"] = self.reason
        return answer


class _Services(Protocol):
    settings: Settings

    @property
    def store(self) -> Store: ...


def probe_data_dir(data_dir: str) -> None:
    """Write, fsync and delete a small file where uploads go: raises ``OSError`` if the
    folder cannot be written (missing and not creatable, read-only, full)."""
    folder: Path = instance_dir(data_dir)
    probe = folder / f".healthz-{uuid.uuid4().hex}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"ok\n" * 1365)  # 4 KiB: one block must be allocatable
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()


class HealthCheck:
    def __init__(self, services: _Services) -> None:
        self.services = services
        self._checked_at: float | None = None
        self._last: Health | None = None
        self._lock = asyncio.Lock()

    async def check(self, now: float) -> Health:
        """The instance's health as of ``now`` (monotonic seconds): the last answer if it is
        under ``CACHE_SECONDS`` old, else a new check."""
        async with self._lock:
            age = None if self._checked_at is None else now - self._checked_at
            fresh = age is not None and 0 <= age < CACHE_SECONDS
            if self._last is None or not fresh:
                self._last = await self._run()
                self._checked_at = now
            return self._last

    async def _run(self) -> Health:
        database, data_dir = await asyncio.gather(self._database(), self._data_dir())
        reasons = [r for r in (database, data_dir) if r is not None]
        return Health(
            "ok" if database is None else "unavailable",
            "ok" if data_dir is None else "unavailable",
            "; ".join(reasons) or None,
        )

    async def _database(self) -> str | None:
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self.services.store.write, sql.touch), TIMEOUT_SECONDS
            )
        except TimeoutError:
            return f"the database did not commit a write within {TIMEOUT_SECONDS:g} s"
        except Exception as exc:
            return f"the database cannot be written ({exc})"
        return None

    async def _data_dir(self) -> str | None:
        data_dir = self.services.settings.data_dir
        try:
            await asyncio.wait_for(asyncio.to_thread(probe_data_dir, data_dir), TIMEOUT_SECONDS)
        except TimeoutError:
            return (
                f"the data directory {data_dir} did not take a write within {TIMEOUT_SECONDS:g} s"
            )
        except OSError as exc:
            return f"the data directory {data_dir} cannot be written ({exc.strerror or exc})"
        return None
