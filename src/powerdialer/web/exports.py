"""A campaign's rows as a download, for the API and the web UI alike: CSV or XLSX, both
streamed as they are read (the first bytes leave at once, memory stays flat).

Memory per download is bounded whether or not the client reads:

- **Back-pressure.** The body is pulled, one chunk at a time: the next page is read from the
  database (in a worker thread) only after the server's ``send`` has taken the chunk before,
  and uvicorn's ``send`` waits while the connection's write buffer is full.  So an export
  that nobody reads stops, holding two chunks at most (one in the socket's buffer, one
  waiting), a few hundred KiB each: never a queue of pages.
- **Caps.** :class:`ExportSlots` counts the downloads open at once in this process, per
  holder (an API key, a web UI user) and overall; past either cap the answer is 429
  ``too_many_exports`` with ``Retry-After``.  A slot is given back when the response ends,
  however it ends: finished, the client gone, an error.

Downloads of an import's rejected rows take slots from the same counter.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncGenerator, Hashable, Iterator
from typing import Literal
from urllib.parse import quote

import anyio
from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from powerdialer.rows import exporting
from powerdialer.storage import Store
from powerdialer.web.responses import error_payload

Format = Literal["csv", "xlsx"]
RETRY_AFTER_SECONDS = 5


class ExportSlot:
    """One open download's place; ``release()`` gives it back (once, however often called)."""

    def __init__(self, slots: ExportSlots, holder: Hashable) -> None:
        self._slots, self._holder, self._held = slots, holder, True

    def release(self) -> None:
        with self._slots.lock:
            if self._held:
                self._held = False
                self._slots.give_back(self._holder)


class ExportSlots:
    """How many downloads are open at once, per holder and in all, in this process."""

    def __init__(self, per_holder: int, overall: int) -> None:
        self.per_holder, self.overall = per_holder, overall
        self.lock = threading.Lock()  # UI routes run in worker threads
        self._open: Counter[Hashable] = Counter()
        self._total = 0

    def take(self, holder: Hashable) -> ExportSlot | None:
        """A slot for ``holder``, or ``None`` when it or the whole process is at its cap."""
        with self.lock:
            if self._total >= self.overall or self._open[holder] >= self.per_holder:
                return None
            self._open[holder] += 1
            self._total += 1
            return ExportSlot(self, holder)

    def give_back(self, holder: Hashable) -> None:  # called with the lock held
        self._total -= 1
        self._open[holder] -= 1
        if not self._open[holder]:
            del self._open[holder]

    @property
    def total(self) -> int:
        return self._total

    def busy_message(self, holder: Hashable) -> str:
        if self._open[holder] >= self.per_holder:
            return (
                f"{self.per_holder} downloads are already open for this key (the limit "
                f"POWERDIALER_MAX_EXPORTS_PER_KEY): finish or close one, or retry after "
                f"{RETRY_AFTER_SECONDS} s."
            )
        return (
            f"{self.overall} downloads are already open on this server (the limit "
            f"POWERDIALER_MAX_EXPORTS): retry after {RETRY_AFTER_SECONDS} s."
        )


def busy_response(slots: ExportSlots, holder: Hashable) -> JSONResponse:
    """The API's 429 (the one error shape) for a download past a cap."""
    return JSONResponse(
        error_payload("too_many_exports", slots.busy_message(holder)),
        status_code=429,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


# Worker threads making export chunks at once, in all downloads of the process: a page in
# the making is ~10 MiB of Python objects and SQLite pages, so the many downloads a server
# may have open take turns instead of each having one in flight (and the GIL would not run
# more than one at a time anyway).
PRODUCERS = 2
_producers: anyio.CapacityLimiter | None = None


def _producer_limiter() -> anyio.CapacityLimiter:
    global _producers
    if _producers is None:
        _producers = anyio.CapacityLimiter(PRODUCERS)
    return _producers


async def _pull(chunks: Iterator[bytes]) -> AsyncGenerator[bytes]:
    """Each chunk made in a worker thread when the one before has been sent, never ahead."""
    limiter = _producer_limiter()
    try:
        while (
            chunk := await anyio.to_thread.run_sync(next, chunks, None, limiter=limiter)
        ) is not None:
            yield chunk
    finally:
        # A cancelled run_sync waits for its thread, so the generator is idle here.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class SlotResponse(StreamingResponse):
    """A streamed download holding an :class:`ExportSlot` until the response ends."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        slot: ExportSlot,
        *,
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        body = _pull(chunks)
        super().__init__(body, media_type=media_type, headers=headers)
        self._body, self.slot = body, slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
            await self._body.aclose()


def rejected_rows_response(chunks: Iterator[str], slot: ExportSlot, job_id: int) -> SlotResponse:
    """An import's rejected rows (``importing.rejects``) as a download under a slot."""

    def encoded() -> Iterator[bytes]:
        yield "\ufeff".encode()  # so that Excel opens the Cyrillic as UTF-8
        for text in chunks:
            yield text.encode()

    return SlotResponse(
        encoded(),
        slot,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-rejected.csv"'},
    )


def disposition(plan: exporting.ExportPlan, extension: str) -> str:
    """``attachment`` with an ASCII name and the full Unicode one (RFC 6266)."""
    fallback, full = exporting.file_names(plan, extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"


def export_response(
    store: Store, plan: exporting.ExportPlan, file_format: Format, slot: ExportSlot
) -> SlotResponse:
    if file_format == "csv":
        chunks, media_type = exporting.csv_chunks(store, plan), exporting.CSV_TYPE
    else:
        chunks, media_type = exporting.xlsx_chunks(store, plan), exporting.XLSX_TYPE
    return SlotResponse(
        chunks,
        slot,
        media_type=media_type,
        headers={"Content-Disposition": disposition(plan, file_format)},
    )
