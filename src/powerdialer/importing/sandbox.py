"""Reading untrusted files where a runaway cannot reach the server: child processes with a
memory limit, for previews (here) and import jobs (:mod:`~powerdialer.importing.worker`).

A file that passes the cheap checks of :mod:`~powerdialer.reader.bounds` may still cost
more than it should: a JSON Lines line of 400 MB, a sheet that calamine reads into 1.5 GB, a
reader bug.  In the server's process that is the server's death: a failed allocation in
calamine's Rust code aborts the process, however Python would have handled it.  So every
read of an upload happens in a child from the import workers' ``forkserver``, whose address
space is capped (``RLIMIT_AS``): a child that asks for more fails there, alone, and the
server answers 422 ``file_too_complex`` (a preview) or fails the job with that code.  A
preview also has a time limit, after which its child is killed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.context
import resource
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from powerdialer.errors import ValidationError
from powerdialer.importing.previews import FilePreview, preview_file
from powerdialer.reader.bounds import DEFAULT_LIMITS, WorkbookLimits
from powerdialer.reader.errors import FIX
from powerdialer.reader.headers import Mapping

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_READ_LIMITS",
    "PreviewTask",
    "ReadLimits",
    "context",
    "limit_memory",
    "run_preview",
    "too_complex",
    "too_deep",
]

TOO_COMPLEX = "file_too_complex"
_PRELOAD = ["powerdialer.importing.worker", __name__]
_SMALLER = f"split the file or remove what is not a contact list from it, or {FIX}"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """What one child reading an upload may use."""

    memory_bytes: int = 2048 << 20
    """The child's address space (``RLIMIT_AS``)."""
    preview_seconds: float = 60.0
    """How long a preview may take before its child is killed."""
    workbook: WorkbookLimits = DEFAULT_LIMITS


DEFAULT_READ_LIMITS = ReadLimits()


@dataclass(frozen=True, slots=True)
class PreviewTask:
    path: str
    filename: str
    mapping: Mapping | None
    region: str
    limits: ReadLimits


def context() -> multiprocessing.context.ForkServerContext:
    """The forkserver every reading child comes from, with the reading modules preloaded."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def limit_memory(memory_bytes: int) -> None:
    """Cap this (child) process's address space; an allocation past it fails here."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def too_complex(limits: ReadLimits, exitcode: int | None = None) -> ValidationError:
    """The error of a child that ran out of memory (or was killed by a signal)."""
    megabytes = limits.memory_bytes >> 20
    how = ""
    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            how = f" (the reader stopped with {signal.Signals(-exitcode).name})"
    return ValidationError(
        f"Reading the file needs more than the {megabytes} MiB of memory a reader may use"
        f"{how} (POWERDIALER_READER_MEMORY_MB); {_SMALLER}.",
        code=TOO_COMPLEX,
        field="file",
    )


def too_deep() -> ValidationError:
    """The error of a file whose data nests deeper than the reader's recursion."""
    return ValidationError(
        f"The file nests its data deeper than the reader follows; {_SMALLER}.",
        code=TOO_COMPLEX,
        field="file",
    )


def _too_slow(limits: ReadLimits) -> ValidationError:
    return ValidationError(
        f"Reading the file's first rows took longer than {limits.preview_seconds:g} s "
        f"(POWERDIALER_PREVIEW_TIMEOUT); {_SMALLER}.",
        code=TOO_COMPLEX,
        field="file",
    )


def _preview_child(conn: Connection, task: PreviewTask) -> None:
    """A child process: the preview, or the error that stopped it, down the pipe."""
    outcome: tuple[str, Any]
    try:
        limit_memory(task.limits.memory_bytes)
        found = preview_file(
            task.path, task.filename, task.mapping, task.region, limits=task.limits.workbook
        )
        outcome = ("ok", found)
    except ValidationError as exc:
        outcome = ("error", exc)
    except MemoryError:
        outcome = ("error", too_complex(task.limits))
    except RecursionError:
        outcome = ("error", too_deep())
    except Exception as exc:
        log.exception("preview of %s failed", task.path)
        outcome = (
            "error",
            ValidationError(
                f"The file cannot be read ({type(exc).__name__}); {FIX}.",
                code="corrupt_file",
                field="file",
            ),
        )
    try:
        conn.send(outcome)
    except (BrokenPipeError, ConnectionResetError, MemoryError):
        pass  # the server has given up on this preview, or there is no memory left to say so
    finally:
        conn.close()


def run_preview(task: PreviewTask) -> FilePreview:
    """:func:`~powerdialer.importing.previews.preview_file` in a child under ``task.limits``
    (blocking: call it from a thread).  Raises ``ValidationError`` like it does, and
    ``file_too_complex`` when the child runs out of memory or time, or dies."""
    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_preview_child, args=(sender, task), name="powerdialer-preview", daemon=True
    )
    process.start()
    sender.close()  # the child has its own copy; ours would hide the child's death
    try:
        if not receiver.poll(task.limits.preview_seconds):
            raise _too_slow(task.limits)
        try:
            kind, value = receiver.recv()
        except EOFError:  # the child died without a word: killed, or aborted
            process.join(5)
            raise too_complex(task.limits, process.exitcode) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if kind == "error":
        raise value
    found: FilePreview = value
    return found
