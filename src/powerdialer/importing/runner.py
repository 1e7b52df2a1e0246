"""The storing half of an import job, in the server process: start the worker children on
the upload (:mod:`~powerdialer.importing.worker`: one checks the file's structure, one
validates its records, side by side), store the records' chunks through the group-commit
writer once the structure is vouched for, as ``ImportChunk`` writes (answered with counts,
not one outcome per row: see :func:`powerdialer.rows.write.apply_imports`), and keep the job's
counters up to date.  The rows arrive as the tuples the writer binds: the server does no
per-row work of its own.

Up to ``AHEAD`` chunks are being stored while the child prepares the next, so reading and
storing overlap.  A chunk goes to the writer as ``WRITE_ROWS``-row *background* writes
(:mod:`~powerdialer.storage.writer`): the writer puts the ones that queue up into one
transaction (fewer commits: each one rewrites most of a big campaign's unique index to
SQLite's WAL), but commits as soon as the live API's rows arrive, so those wait for one such
write at most, never for a chunk or a transaction's worth (benchmarks/results/import.md).
The job's counters and rejected rows ride in those very writes (``ImportChunk.job_id``): they
change in the transaction that stores the rows they count, so a poll, or a job interrupted
by a crash, always reads ``supplied ≥ inserted + duplicates + updated + rejected`` with
``inserted`` the rows stored.  Only the job's status goes as a write of its own.

Any instance finishes a job (:mod:`~powerdialer.importing.leases`): the upload is stored in
the database before the import starts (:mod:`~powerdialer.importing.stored_uploads`); each
write covers the next records of the file, in order, and is fenced by this process's
ownership and the job's count so far (``ImportChunk.owner``/``offset``), so ``supplied`` is
a durable checkpoint.  Every ``lease / 3`` the runner renews its jobs' leases and, with a
slot free, takes over a job whose lease lapsed: it copies the upload back from the database
and resumes after the ``supplied`` records, counting on from the job's counters.  On a clean
stop its jobs' leases are released, for another instance (or this one, restarted).

Past 300 lines on purpose: one job's life (start, pump, count, finish, fail, sweep) is one
state machine; split, its states would live in different modules.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import Counter, deque
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from powerdialer.errors import JobLost, PowerDialerError
from powerdialer.importing import jobs, sandbox, stored_uploads, worker
from powerdialer.importing.jobs import ImportJob
from powerdialer.importing.leases import LeaseOp, new_owner
from powerdialer.importing.mapping import parse_mapping
from powerdialer.importing.previews import FilePreview
from powerdialer.importing.uploads import Upload, instance_dir, is_abandoned, known_instance_dir
from powerdialer.models import utcnow
from powerdialer.reader.bounds import WorkbookLimits
from powerdialer.reader.headers import Mapping
from powerdialer.rows.write import ImportChunk, ImportCounts
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "AHEAD",
    "CHUNK_ROWS",
    "HOLD",
    "MAX_PREVIEWS",
    "MAX_RUNNING",
    "WRITE_ROWS",
    "ImportRunner",
]

MAX_RUNNING = 1
"""Jobs run at once per process; the others wait ``queued``.  One saturates the writer."""
MAX_PREVIEWS = 2
"""Previews read at once per process (each in a child with the reader's memory limit); the
others wait for one of them to end."""
CHUNK_ROWS = 10_000
"""Records per chunk the worker sends: one write's worth (fewer, bigger messages cost less to
pass; a chunk of 20,000 took the worker from 56 to 85 MiB)."""
WRITE_ROWS = 2_500
"""Rows per write to the group-commit writer: the most a live API row waits behind on SQLite
(on PostgreSQL the imports have a writer lane of their own).  The writer still puts up to
``max_background`` rows of them in one transaction while no live row waits, so the import
keeps its speed; 10,000 let a live row wait p99 0.7 s during a 1M import (BENCHMARKS.md)."""
HOLD = 10
"""Chunks of the reading child held while the counting child has not vouched for the file
(nothing is stored before): the reading starts at once, with memory still bounded."""
AHEAD = 10
"""Chunks handed to the writer and not yet stored, at most: twice what one transaction takes
(the writer's ``max_background`` is 50,000 rows), so that the next one is queued in full
while the writer stores this one (with five, transactions alternated 40,000 and 10,000 rows)."""


def read_limits(settings: Settings) -> sandbox.ReadLimits:
    """What a child reading an upload may use, from the settings."""
    return sandbox.ReadLimits(
        memory_bytes=settings.reader_memory_mb << 20,
        preview_seconds=settings.preview_timeout_seconds,
        workbook=WorkbookLimits(settings.max_workbook_cells, settings.max_workbook_bytes),
    )


class _Gone(Exception):
    """The job's row has vanished (its campaign was deleted, and its jobs with it), or this
    process no longer holds it (another instance took it over)."""


class ImportRunner:
    """Runs this process's import jobs in the background, as asyncio tasks."""

    def __init__(self, store: Store, committer: GroupCommitter, settings: Settings):
        self.store = store
        self.committer = committer
        self.settings = settings
        self.chunk_rows = CHUNK_ROWS
        self.write_rows = WRITE_ROWS
        self.owner = new_owner()
        """This process, as the owner of the jobs it works on."""
        self.lease = dt.timedelta(seconds=settings.import_lease_seconds)
        self._folder: Path | None = None
        self._slots = asyncio.Semaphore(MAX_RUNNING)
        self._previews = asyncio.Semaphore(MAX_PREVIEWS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._held = 0  # jobs of this process, running or waiting for a slot
        self.limits = read_limits(settings)

    @property
    def folder(self) -> Path:
        """Where this instance keeps uploads (created on first use)."""
        if self._folder is None:
            self._folder = instance_dir(self.settings.data_dir)
        return self._folder

    async def start(self, *, watch: bool = True) -> None:
        """Start the worker children's forkserver, delete the local copies of uploads that
        no live process holds, and start the heartbeat (``watch``: off in tests that beat
        with a set clock themselves)."""
        await asyncio.to_thread(worker.prepare)
        folder = await asyncio.to_thread(known_instance_dir, self.settings.data_dir)
        if folder is not None and folder.is_dir():
            for path in await asyncio.to_thread(lambda: list(folder.iterdir())):
                await asyncio.to_thread(is_abandoned, folder, str(path))
        if watch:
            self._watcher = asyncio.create_task(self._watch(), name="import-leases")

    async def stop(self) -> None:
        """Stop the running jobs and let go of their leases: another instance (or this one,
        restarted) takes them over and resumes them."""
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.committer.submit(LeaseOp("release", self.owner, utcnow()))
        except (StorageUnavailable, PowerDialerError) as exc:
            log.warning("import leases not released (they lapse by themselves): %s", exc)

    async def _watch(self) -> None:
        every = max(self.lease.total_seconds() / 3, 0.1)
        while True:
            await asyncio.sleep(every)
            try:
                await self.beat(utcnow())
            except StorageUnavailable as exc:
                log.warning("import heartbeat failed (retried): %s", exc)
            except Exception:
                log.exception("import heartbeat failed (retried)")

    async def beat(self, now: dt.datetime) -> ImportJob | None:
        """The heartbeat at ``now``: renew this process's leases and, with a slot free, take
        over a job whose lease lapsed (returned, and resumed in the background)."""
        await self.committer.submit(LeaseOp("renew", self.owner, now, self.lease))
        if self._held >= MAX_RUNNING:
            return None
        taken = await self.committer.submit(LeaseOp("take", self.owner, now, self.lease))
        if not isinstance(taken, ImportJob):
            return None
        log.warning(
            "import %d taken over (its lease lapsed; attempt %d): resumed from record %d",
            taken.id,
            taken.attempts,
            taken.supplied,
        )
        self._spawn(self._resume(taken), taken)
        return taken

    def _spawn(self, work: Any, job: ImportJob) -> None:
        self._held += 1
        task = asyncio.create_task(work, name=f"import-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def preview(
        self, upload: Upload, filename: str, mapping: Mapping | None, region: str
    ) -> FilePreview:
        """The upload's preview, read in a child process under :attr:`limits`; raises
        ``ValidationError`` (``file_too_complex`` when the child runs out of memory or time)."""
        task = sandbox.PreviewTask(str(upload.path), filename, mapping, region, self.limits)
        async with self._previews:
            return await asyncio.to_thread(sandbox.run_preview, task)

    def new_upload(self, filename: str) -> Upload:
        return Upload(self.folder, Path(filename).suffix)

    def launch(self, job: ImportJob, upload: Upload, mapping: Mapping | None) -> None:
        """Run a new ``job`` in the background; the runner owns ``upload`` from now on."""
        self._spawn(self._run(job, upload, mapping, fresh=True), job)

    async def _resume(self, job: ImportJob) -> None:
        """A job taken over: its upload copied back from the database, then run on from
        its checkpoint; a job whose upload never reached the database whole fails."""
        try:
            upload = self.new_upload(job.filename)
        except BaseException:
            self._held -= 1
            raise
        try:
            whole = await asyncio.to_thread(stored_uploads.restore_upload, self.store, job, upload)
            mapping = parse_mapping(job.requested_mapping) if whole else None
        except BaseException:
            upload.release()
            self._held -= 1
            raise
        if not whole:
            upload.release()
            self._held -= 1
            await asyncio.to_thread(
                jobs.fail_job, self.store, job, "interrupted", jobs.INTERRUPTED, self.owner
            )
            return
        await self._run(job, upload, mapping, fresh=False)

    async def _run(
        self, job: ImportJob, upload: Upload, mapping: Mapping | None, *, fresh: bool
    ) -> None:
        stored: asyncio.Future[bool] | None = None
        try:
            if job.owner != self.owner:  # a job made without an owner: this process's now
                adopt = LeaseOp("take", self.owner, utcnow(), self.lease, (job.project_id, job.id))
                if await self.committer.submit(adopt) is None:
                    raise _Gone
            # Stored from now, while the job waits for a slot and while its children check
            # and read the file; its rows only once it is stored whole (``_Job.whole``), so
            # any instance can finish a job that has stored a row.
            if fresh:
                stored = asyncio.ensure_future(
                    stored_uploads.store_upload(self.committer, job, upload.path, self.owner)
                )
            try:
                async with self._slots:
                    await _Job(self, job, upload, stored).run(mapping)
            finally:
                if stored is not None and not stored.done():
                    stored.cancel()  # the job ended first (it failed, or was cancelled)
                if stored is not None:
                    await asyncio.gather(stored, return_exceptions=True)
        except asyncio.CancelledError:
            raise  # stopping: the job's lease is released, and another instance resumes it
        except _Gone:
            log.info("import %d stopped: its campaign was deleted, or it was taken over", job.id)
        except Exception:
            log.exception("import %d failed", job.id)
            await asyncio.to_thread(
                jobs.fail_job,
                self.store,
                job,
                "internal_error",
                "the import failed; try again.",
                self.owner,
            )
        finally:
            upload.release()
            self._held -= 1


class _Job:
    """One run: the child's events in, rows and counters out."""

    def __init__(
        self,
        runner: ImportRunner,
        job: ImportJob,
        upload: Upload,
        stored: asyncio.Future[bool] | None = None,
    ) -> None:
        self.runner = runner
        self.job = job
        self.upload = upload
        self.stored = stored  # the upload being stored in the database (a fresh job)
        # The job's counters as this run goes: from where the job stood when it began (a job
        # taken over resumes after the ``supplied`` records its earlier runs accounted for).
        self.counts: Counter[str] = Counter(supplied=job.supplied, rejected=job.rejected)
        self.offset = job.supplied  # records accounted for before the next write
        self.counted = False
        self.processes: list[BaseProcess] = []

    async def save(self, **values: Any) -> None:
        """``values`` to the job's row, via the writer (the counters move with the rows)."""
        update = jobs.JobUpdate(self.job.project_id, self.job.id, values, self.runner.owner)
        if not await self.runner.committer.submit(update):
            raise _Gone

    async def run(self, mapping: Mapping | None) -> None:
        runner = self.runner
        if self.job.started_at is None:
            await self.save(status="running", started_at=utcnow())
        else:
            await self.save(status="running")
        task = worker.Task(
            path=str(self.upload.path),
            filename=self.job.filename,
            mapping=mapping,
            keep_valid=self.job.keep_valid,
            region=runner.settings.default_region,
            chunk_rows=runner.chunk_rows,
            limits=runner.limits,
            skip=self.job.supplied,
        )
        children: list[tuple[BaseProcess, Any]] = []
        try:
            for part in worker.PARTS:
                children.append(await asyncio.to_thread(worker.start, task, part))
                self.processes.append(children[-1][0])
            await self.drive(*(events for _process, events in children))
        finally:
            # On any early exit the children are stopped; a thread still blocked on a pipe
            # then sees the end of it and lets go (the connection closes with it).
            for process, _events in children:
                if process.is_alive():
                    process.terminate()
            for process, _events in children:
                await asyncio.to_thread(process.join)

    async def drive(self, counting: Any, reading: Any) -> None:
        """The counting child's answer first; meanwhile the reading child's first chunks
        wait (``HOLD`` at most), then they are stored."""
        held: asyncio.Queue[worker.Event | EOFError] = asyncio.Queue(HOLD)
        pump = asyncio.ensure_future(self.pump(reading, held))
        try:
            if await self.structure(counting):
                await self.whole()
                await self.store(held)
        except EOFError:  # a child died without a word: out of memory, or killed
            error = await self.death()
            await self.finish("failed", error.code, error.message)
        finally:
            pump.cancel()

    async def death(self) -> PowerDialerError:
        """Why a child's pipe ended early: a child that was killed or aborted (calamine's
        answer to a failed allocation) ran out of memory; otherwise, who knows."""
        for process in self.processes:
            await asyncio.to_thread(process.join, 5)
            if process.exitcode is not None and process.exitcode != 0:
                return sandbox.too_complex(self.runner.limits, process.exitcode)
        return PowerDialerError("the import stopped unexpectedly.", code="internal_error")

    @staticmethod
    async def pump(events: Any, held: asyncio.Queue[worker.Event | EOFError]) -> None:
        """The reading child's events into ``held``, up to its last one."""
        while True:
            try:
                event = await asyncio.to_thread(events.recv)
            except EOFError as exc:
                await held.put(exc)
                return
            await held.put(event)
            if isinstance(event, (worker.Broken, worker.Finished)):
                return

    async def whole(self) -> None:
        """Wait until the upload is stored whole in the database, before the first row: a
        job that has stored a row can be finished by any instance.  Raises ``_Gone`` when
        the job was lost meanwhile (the store's failure, as it is)."""
        if self.stored is not None and not await self.stored:
            raise _Gone

    async def structure(self, counting: Any) -> bool:
        """Pass 1's events: whether the file may be stored (False: the job has failed)."""
        mapping: dict[str, Any] = {}
        while True:
            event = await asyncio.to_thread(counting.recv)
            if isinstance(event, worker.Opened):
                mapping = event.mapping
                await self.save(
                    format=event.format,
                    encoding=event.encoding,
                    delimiter=event.delimiter,
                    mapping=json.dumps(mapping, ensure_ascii=False),
                )
            elif isinstance(event, worker.Counted):
                self.counted = True
                values: dict[str, Any] = {"total": event.total}
                if event.left_out:  # kept beside the mapping they qualify (see jobs._job)
                    described = {**mapping, "left_out": list(event.left_out)}
                    values["mapping"] = json.dumps(described, ensure_ascii=False)
                await self.save(**values)
                return True
            elif isinstance(event, worker.Broken):
                await self.finish("failed", event.code, event.message)
                return False

    async def store(self, held: asyncio.Queue[worker.Event | EOFError]) -> None:
        """Pass 2's events: chunks stored, up to ``AHEAD`` at once, then the job's end."""
        inflight: deque[tuple[worker.Chunk, asyncio.Future[None] | None]] = deque()
        try:
            while True:
                event = await held.get()
                if isinstance(event, EOFError):
                    raise event
                if isinstance(event, worker.Chunk):
                    if len(inflight) >= AHEAD:
                        await self.settle(*inflight.popleft())
                    inflight.append((event, self.submit(event)))
                    continue
                while inflight:
                    await self.settle(*inflight.popleft())
                if isinstance(event, worker.Broken):
                    # With keep_valid, a file that breaks after its start keeps what came
                    # before the break: the job is done, and its error says where it broke.
                    partial_ok = self.job.keep_valid and self.counted
                    await self.finish("done" if partial_ok else "failed", event.code, event.message)
                    return
                if isinstance(event, worker.Finished):
                    await self.finish("done")
                    return
        except JobLost:
            # Another instance holds the job now: it stores the rest; this run stops.
            await asyncio.gather(*(w for _, w in inflight if w is not None), return_exceptions=True)
            raise _Gone from None
        except (PowerDialerError, StorageUnavailable) as exc:
            # The campaign was archived or deleted, or the database gave up: what is stored
            # stays stored, and the counters say how much that is.  Writes already queued
            # are stored (or refused) whatever happens here: count them before the job's
            # last word.
            await asyncio.gather(*(w for _, w in inflight if w is not None), return_exceptions=True)
            code = getattr(exc, "code", "storage_unavailable")
            message = getattr(exc, "message", None) or str(exc)
            await self.finish("failed", code, message)

    def submit(self, chunk: worker.Chunk) -> asyncio.Future[None] | None:
        """Queue the chunk's records now, in writes of ``runner.write_rows`` rows (stored in
        the order queued: the file's first row of a number is the one kept); the live API's
        rows, queued meanwhile, wait for one such write at most.  Each write covers the next
        records of the file, its rows and the rejects among them (by line), and is fenced by
        the job's count so far (``offset``): the job's ``supplied`` is always a prefix of the
        file, where a job taken over resumes."""
        if not chunk.read:
            return None
        rows, step = chunk.rows, self.runner.write_rows
        starts = range(0, max(len(rows), 1), step)
        by_line = len(chunk.lines) >= len(rows)  # else (hand-made chunks) rejects go first
        taken = 0  # rejects handed out so far
        writes = []
        for start in starts:
            part = rows[start : start + step] if step < len(rows) else rows
            if start == starts[-1]:
                end = len(chunk.rejects)
            elif not by_line:
                end = len(chunk.rejects) if start == 0 else taken
            else:
                bound = chunk.lines[start + len(part) - 1]
                end = taken
                while end < len(chunk.rejects) and chunk.rejects[end][0] < bound:
                    end += 1
            rejects, taken = chunk.rejects[taken:end], end
            read = len(part) + len(rejects)
            writes.append(
                self.runner.committer.enqueue(
                    ImportChunk(
                        project_id=self.job.project_id,
                        campaign_id=self.job.campaign_id,
                        rows=part,
                        source=self.job.source,
                        job_id=self.job.id,
                        read=read,
                        rejects=rejects,
                        lines=part_of(chunk.lines, start, step),
                        dialer=None if chunk.dialer is None else part_of(chunk.dialer, start, step),
                        owner=self.runner.owner,
                        offset=self.offset,
                    )
                )
            )
            self.offset += read
        return asyncio.ensure_future(self.count(writes))

    async def count(self, writes: list[asyncio.Future[ImportCounts]]) -> None:
        """Add up the writes of one chunk; the first failure, if any, is raised after the
        writes that did get stored are counted."""
        failure: BaseException | None = None
        for counts in await asyncio.gather(*writes, return_exceptions=True):
            if isinstance(counts, BaseException):
                failure = failure or counts
                continue
            self.counts["inserted"] += counts.inserted
            self.counts["duplicates"] += counts.duplicates
            self.counts["updated"] += counts.updated
        if failure is not None:
            raise failure

    async def settle(self, chunk: worker.Chunk, write: asyncio.Future[None] | None) -> None:
        """Wait for a chunk's writes (its counters were stored with them)."""
        if write is not None:
            await write
        self.counts["supplied"] += chunk.read
        self.counts["rejected"] += len(chunk.rejects)

    async def finish(
        self, status: str, code: str | None = None, message: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
        if code is not None:
            values.update(error_code=code, error_message=message)
        if status == "done" and code is None:
            values["total"] = self.counts["supplied"]
        if self.stored is not None and not self.stored.done():
            self.stored.cancel()  # a file refused before it was stored whole: no need now
            await asyncio.gather(self.stored, return_exceptions=True)
        self.upload.release()  # gone before the job says it is over
        await self.save(**values)


def part_of(values: list[T], start: int, step: int) -> list[T]:
    """The write's share of a chunk's per-row list (the whole list when one write takes it)."""
    return values[start : start + step] if step < len(values) else values
