"""The reading half of an import job: two child processes that read and validate the upload
and stream what they found to the server, which stores it
(:mod:`~powerdialer.importing.runner`).

Why a process: reading and validating a million rows is ~10 s of pure Python.  In a thread of
the server it would hold the GIL against the event loop (the live API's latency) and leave
the second core idle; in a child, it runs beside the server's writer thread, and whatever it
allocates (a workbook's sheet lives in calamine's memory) goes back to the system at exit.
Children come from a ``forkserver`` with this module preloaded: a few milliseconds each,
and safe however many threads the server runs.  Each runs under the reader's memory limit
(:mod:`~powerdialer.importing.sandbox`): a file that costs more fails its job with
``file_too_complex``, and the server goes on.

The all-or-nothing rule rests on two passes over the file, one per child, run side by side:

1. **Structure** (:func:`count`): every row is read (encoding, CSV quoting, JSON Lines) but
   no record is built, so it costs a quarter of a full read.  A file-level error
   (:class:`ReaderError`) ends the job before anything is stored, unless ``keep_valid``.
2. **Records** (:func:`records`): each is validated with
   :func:`powerdialer.rows.validate.parse_import_row` (the checks of ``parse_new_row``) and sent in
   chunks; invalid ones are sent as rejects with their line numbers.  With ``keep_valid``,
   the break pass 1 met ends this pass too, after the rows before it.

The server stores no chunk before pass 1 has answered (it holds the first few meanwhile), so
a broken file still stores nothing; the records' pass just need not wait to start.

Duplicates within the file are not looked for here: the server stores the chunks in file
order through the campaign's duplicate policy, so a number seen earlier in the file meets it
in the campaign, exactly as within one bulk request, and memory stays flat.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from powerdialer.errors import ValidationError
from powerdialer.importing import sandbox
from powerdialer.reader.errors import ReaderError
from powerdialer.reader.header_names import dialer_columns
from powerdialer.reader.headers import Mapping
from powerdialer.reader.open import open_table
from powerdialer.reader.table import Table
from powerdialer.rows.dialer_fields import ImportDialer, parse_import_dialer
from powerdialer.rows.models import ImportRow
from powerdialer.rows.validate import parse_import_row
from powerdialer.storage.imports import RejectValues

log = logging.getLogger(__name__)

__all__ = [
    "Broken",
    "Chunk",
    "Counted",
    "Event",
    "Finished",
    "Opened",
    "Task",
    "count",
    "prepare",
    "records",
    "start",
]

RowValues = ImportRow
"""A valid row as :class:`powerdialer.rows.write.ImportChunk` carries it, custom fields already
JSON: tuples pickle 4x faster than objects, and whatever per-row work is done here, on the
child's core, is not done in the server (whose writer is what the import waits for)."""

MAX_REJECT_TEXT = 255


@dataclass(frozen=True)
class Task:
    path: str
    filename: str
    mapping: Mapping | None
    keep_valid: bool
    region: str
    chunk_rows: int = 5000
    limits: sandbox.ReadLimits = sandbox.DEFAULT_READ_LIMITS
    skip: int = 0
    """Records already accounted for by the job (it was taken over): read, not sent."""


@dataclass(frozen=True)
class Opened:
    format: str
    encoding: str | None
    delimiter: str | None
    mapping: dict[str, str | None]


@dataclass(frozen=True)
class Counted:
    total: int
    left_out: tuple[dict[str, str], ...] = ()
    """Columns that are not custom fields, with the reason (``LeftOut.describe()``)."""


@dataclass(frozen=True)
class Chunk:
    rows: list[RowValues]
    rejects: list[RejectValues]
    read: int  # records handled: len(rows) + len(rejects)
    lines: list[int] = field(default_factory=list)  # each row's line, for a later reject
    dialer: list[ImportDialer] | None = None  # each row's dialer fields, if the file has any


@dataclass(frozen=True)
class Broken:
    """The file cannot be read on (or at all): the job's error.  Always the last event."""

    code: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Finished:
    """The whole file was read.  Always the last event."""


Event = Opened | Counted | Chunk | Broken | Finished


def _open(task: Task) -> Table:
    return open_table(
        task.path, filename=task.filename, mapping=task.mapping, limits=task.limits.workbook
    )


def _count(table: Table) -> tuple[int, ReaderError | None]:
    """Pass 1: the non-blank rows, read without building records, and the error that stopped
    the reading, if any."""
    count = 0
    try:
        # The table's raw (line, cells) rows: the same reading, and so the same errors, as
        # iterating it, without a Record per row.
        for _line, cells in table._rows:
            if isinstance(cells, str) or any(cells):
                count += 1
    except ReaderError as exc:
        return count, exc
    return count, None


def _clip(text: str | None) -> str | None:
    return text[:MAX_REJECT_TEXT] if text else text


def _validate(table: Table, task: Task) -> Iterator[Event]:
    """Pass 2: records validated into chunks of ``task.chunk_rows``."""
    rows: list[RowValues] = []
    rejects: list[RejectValues] = []
    lines: list[int] = []
    size, region = task.chunk_rows, task.region
    # Columns of dialer fields (priority, tz, consent…): taken out of the custom fields.
    columns = dialer_columns(table.headers)
    dialer: list[ImportDialer] | None = [] if columns else None
    skip = task.skip
    try:
        for record in table:
            if skip:
                skip -= 1
                continue
            if record.error is not None:  # a JSON Lines line that is not an object
                rejects.append((record.line, None, None, "malformed_line", None, record.error))
            else:
                try:
                    own = None
                    if columns:
                        extra = record.extra
                        own = {f: extra.pop(h) for h, f in columns.items() if h in extra}
                    row = parse_import_row(
                        record.phone, record.fio, record.external_id, record.extra, region
                    )
                    if dialer is not None:
                        dialer.append(parse_import_dialer(own or {}))
                except ValidationError as exc:
                    rejects.append(
                        (
                            record.line,
                            _clip(record.phone),
                            _clip(record.fio),
                            exc.code,
                            exc.reason,
                            exc.message,
                        )
                    )
                else:
                    rows.append(row)
                    lines.append(record.line)
            if len(rows) + len(rejects) >= size:
                yield Chunk(rows, rejects, len(rows) + len(rejects), lines, dialer)
                rows, rejects, lines = [], [], []
                dialer = [] if columns else None
    except ReaderError as exc:
        if rows or rejects:
            yield Chunk(rows, rejects, len(rows) + len(rejects), lines, dialer)
        yield Broken(exc.code, str(exc), exc.line)
        return
    if rows or rejects:
        yield Chunk(rows, rejects, len(rows) + len(rejects), lines, dialer)
    yield Finished()


def count(task: Task) -> Iterator[Event]:
    """Pass 1, for the counting child: :class:`Opened`, then :class:`Counted` or (the file
    is broken, and ``keep_valid`` is not set or nothing at all could be read)
    :class:`Broken`.  Never raises a :class:`ReaderError`."""
    try:
        with _open(task) as table:
            yield Opened(table.format, table.encoding, table.delimiter, table.mapping.describe())
            total, error = _count(table)
            left_out = tuple(column.describe() for column in table.left_out)
    except ReaderError as exc:  # not even the columns could be read: nothing to keep
        yield Broken(exc.code, str(exc), exc.line)
        return
    if error is not None and not task.keep_valid:
        yield Broken(error.code, str(error), error.line)
        return
    yield Counted(total, left_out)


def records(task: Task) -> Iterator[Event]:
    """Pass 2, for the reading child: :class:`Chunk` after chunk, then :class:`Finished` or
    (where the file breaks) :class:`Broken`.  Never raises a :class:`ReaderError`.

    It runs beside :func:`count`: the server holds its chunks back until the count has
    vouched for the whole file, so the two passes cost one's time, not the sum."""
    try:
        with _open(task) as table:
            yield from _validate(table, task)
    except ReaderError as exc:  # on opening: count() reports the same error
        yield Broken(exc.code, str(exc), exc.line)


PARTS = {"count": count, "records": records}


def _main(conn: Connection, task: Task, part: str) -> None:
    """A child process: every event of its part (:func:`count` or :func:`records`) down the
    pipe, within the reader's memory limit (:mod:`~powerdialer.importing.sandbox`)."""
    sandbox.limit_memory(task.limits.memory_bytes)
    if part == "records":
        # Behind the server (the live API, the writer) and the counting child when they want
        # the same core: the records wait for both anyway.
        os.nice(5)
    try:
        for event in PARTS[part](task):
            conn.send(event)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server has gone or given up on this job
    except (MemoryError, RecursionError) as exc:  # the file costs more than a reader may
        with contextlib.suppress(OSError, MemoryError):
            error = (
                sandbox.too_deep() if isinstance(exc, RecursionError)
                else sandbox.too_complex(task.limits)
            )  # fmt: skip
            conn.send(Broken(error.code, error.message))
    except Exception:
        log.exception("import worker failed on %s", task.path)
        with contextlib.suppress(OSError):
            conn.send(Broken("internal_error", "the import failed unexpectedly; try again."))
    finally:
        conn.close()


def prepare() -> None:
    """Start the forkserver now (it imports this module, ~0.3 s) rather than on the first
    import job, which would wait for it."""
    sandbox.context()
    forkserver.ensure_running()


def start(task: Task, part: str) -> tuple[BaseProcess, Connection]:
    """Start a child on ``task`` for ``part`` (``"count"`` or ``"records"``); the events come
    out of the returned connection."""
    context = sandbox.context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_main, args=(sender, task, part), name=f"powerdialer-import-{part}", daemon=True
    )
    process.start()
    sender.close()  # the child has its own copy; ours would keep the pipe open forever
    return process, receiver
