"""``AsyncClient``: the SDK for asyncio; what ``powerdialer fill`` drives."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Self, TypeVar

from powerdialer.client import _endpoints as ep
from powerdialer.client._core import DEFAULT_TIMEOUT, ClientCore, open_dest, rewind, tell
from powerdialer.client._errors import APIError, PowerDialerError, RateLimitedError, ServerError
from powerdialer.client._models import BulkResult, Campaign, ImportJob, Limits, NewRow, Page, Row
from powerdialer.client._policy import HOLD_STATUSES, OnRetry, Retries
from powerdialer.client._throttle import AsyncThrottle
from powerdialer.client._transport import AiohttpTransport, AsyncHTTPXTransport, AsyncTransport

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

__all__ = ["AsyncClient"]


class AsyncClient:
    """An asynchronous client of a powerdialer server (or of the vendor's compatible endpoint).

    ``base_url`` (e.g. ``http://127.0.0.1:8000`` or ``https://api.ringostat.net``),
    ``project_id`` and ``key`` (sent as ``x-project-id`` and ``Auth-key``), ``timeout`` per
    request in seconds, ``retries`` (see :class:`Retries`), ``rate_limit`` requests a second
    across every call of this client with ``rate_burst`` (see ``powerdialer.client._throttle``),
    ``max_connections`` for the default transport, ``transport`` to replace it (an
    :class:`AsyncTransport` or any ``httpx.AsyncBaseTransport``), ``on_retry`` to observe
    retries.  Use it as ``async with AsyncClient(...) as client:``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        project_id: int | str | None = None,
        key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | int | None = None,
        rate_limit: float | None = None,
        rate_burst: int | None = None,
        max_connections: int = 100,
        transport: AsyncTransport | httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
        on_retry: OnRetry | None = None,
    ) -> None:
        self._core = ClientCore(
            base_url=base_url,
            project_id=project_id,
            key=key,
            timeout=timeout,
            retries=Retries() if retries is None else retries,
            headers=headers,
            on_retry=on_retry,
        )
        if transport is None:
            transport = AiohttpTransport(max_connections=max_connections)
        elif not isinstance(transport, AsyncTransport):
            transport = AsyncHTTPXTransport(transport)
        self._transport: AsyncTransport = transport
        self.throttle = AsyncThrottle(rate_limit, rate_burst)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def retries(self) -> Retries:
        """The retry policy; may be replaced between calls."""
        return self._core.retries

    @retries.setter
    def retries(self, value: Retries | int | None) -> None:
        self._core.retries = Retries.coerce(value)

    def __repr__(self) -> str:
        return repr(self._core)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _send(self, call: ep.Call[T]) -> T:
        request = self._core.build(call)
        start = tell(call.stream_to)
        attempt = 0
        while True:
            await self.throttle.acquire()
            try:
                response = await self._transport.handle(request)
                result: T = self._core.finish(call, response)
                return result
            except PowerDialerError as exc:
                attempt += 1
                if call.stream_to is not None and start is None:
                    raise  # a partial download cannot be taken back
                delay = self._core.next_delay(call, attempt, exc)
                if delay is None:
                    raise
                if exc.retry_after is not None and exc.status in HOLD_STATUSES:
                    self.throttle.hold(exc.retry_after)
                rewind(call.stream_to, start)
                await asyncio.sleep(delay)

    # The compatible endpoint: works at the vendor and here.

    async def add_row(
        self,
        campaign_id: int,
        phone_number: str,
        fio: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> None:
        """Add one number (``POST /power-dialer/campaigns/campaign-rows``).  Returns when the
        server answered ``{"result": true}``; raises otherwise.  A number already in the
        campaign is success too."""
        await self._send(ep.add_row(campaign_id, phone_number, fio, idempotency_key))

    # powerdialer's own API.

    async def limits(self) -> Limits:
        return await self._send(ep.limits())

    async def detect_limits(self) -> Limits | None:
        """The server's limits, or None when it does not publish them (e.g. the vendor)."""
        try:
            found = await self.limits()
        except (ServerError, RateLimitedError):
            raise
        except APIError:  # 404 at the vendor; 401, 405 or a page that is not JSON elsewhere
            return None
        return found if found.bulk_max_rows > 0 else None

    async def add_rows(
        self,
        campaign_id: int,
        rows: Iterable[NewRow | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BulkResult:
        """Add many rows in one request; one :class:`RowResult` per row, in order."""
        return await self._send(ep.add_rows(campaign_id, rows, idempotency_key))

    async def list_campaigns(self) -> list[Campaign]:
        return await self._send(ep.list_campaigns())

    async def create_campaign(
        self,
        name: str,
        *,
        duplicate_policy: str | None = None,
        idempotency_key: str | None = None,
    ) -> Campaign:
        return await self._send(ep.create_campaign(name, duplicate_policy, idempotency_key))

    async def get_campaign(self, campaign_id: int) -> Campaign:
        return await self._send(ep.get_campaign(campaign_id))

    async def update_campaign(
        self,
        campaign_id: int,
        *,
        name: str | None = None,
        state: str | None = None,
        duplicate_policy: str | None = None,
    ) -> Campaign:
        changes = {"name": name, "state": state, "duplicate_policy": duplicate_policy}
        return await self._send(ep.update_campaign(campaign_id, changes))

    async def delete_campaign(self, campaign_id: int) -> None:
        await self._send(ep.delete_campaign(campaign_id))

    async def list_rows(
        self,
        campaign_id: int,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page[Row]:
        """One page of rows; ``filters``: phone, phone_prefix, q, external_id, source, status,
        created_from, created_to."""
        params = {"limit": limit, "cursor": cursor, **filters}
        return await self._send(ep.list_rows(campaign_id, params))

    async def iter_rows(
        self, campaign_id: int, *, page_size: int | None = None, **filters: Any
    ) -> AsyncIterator[Row]:
        """Every matching row, following ``next_cursor`` page by page."""
        cursor: str | None = None
        while True:
            page = await self.list_rows(campaign_id, limit=page_size, cursor=cursor, **filters)
            for row in page.items:
                yield row
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def get_row(self, campaign_id: int, row_id: int) -> Row:
        return await self._send(ep.get_row(campaign_id, row_id))

    async def delete_row(self, campaign_id: int, row_id: int) -> None:
        await self._send(ep.delete_row(campaign_id, row_id))

    async def delete_rows(self, campaign_id: int) -> int | None:
        """Empty the campaign; returns how many rows were deleted when the server says."""
        return await self._send(ep.delete_rows(campaign_id))

    async def export(
        self, campaign_id: int, dest: str | os.PathLike[str] | BinaryIO, *, format: str = "csv"
    ) -> None:
        """Stream the campaign's rows as ``csv`` or ``xlsx`` into a path or binary stream."""
        stream, owned = open_dest(dest)
        try:
            await self._send(ep.export(campaign_id, format, stream))
        finally:
            if owned:
                stream.close()

    async def start_import(
        self,
        campaign_id: int,
        file: str | os.PathLike[str] | BinaryIO,
        *,
        filename: str | None = None,
        mapping: Mapping[str, Any] | None = None,
        keep_valid: bool = False,
        idempotency_key: str | None = None,
    ) -> ImportJob:
        """Upload a CSV/XLSX/JSON Lines file as a background import job (202)."""
        call = ep.start_import(
            campaign_id,
            file,
            filename=filename,
            mapping=mapping,
            keep_valid=keep_valid,
            idempotency_key=idempotency_key,
        )
        return await self._send(call)

    async def get_import(self, job_id: int | str) -> ImportJob:
        return await self._send(ep.get_import(job_id))

    async def wait_import(
        self, job_id: int | str, *, poll: float = 1.0, timeout: float | None = None
    ) -> ImportJob:
        """Poll the job until it is done (or ``timeout`` seconds pass: ``TimeoutError``)."""
        async with asyncio.timeout(timeout):
            while not (job := await self.get_import(job_id)).done:
                await asyncio.sleep(poll)
        return job

    async def download_rejected(
        self, job_id: int | str, dest: str | os.PathLike[str] | BinaryIO
    ) -> None:
        """The job's rejected rows with reasons, as CSV."""
        stream, owned = open_dest(dest)
        try:
            await self._send(ep.rejected_csv(job_id, stream))
        finally:
            if owned:
                stream.close()
