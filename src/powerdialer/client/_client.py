"""``Client``: the synchronous SDK (the same methods as :class:`AsyncClient`, without await)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Self, TypeVar

from powerdialer.client import _endpoints as ep
from powerdialer.client._core import DEFAULT_TIMEOUT, ClientCore, open_dest, rewind, tell
from powerdialer.client._errors import APIError, PowerDialerError, RateLimitedError, ServerError
from powerdialer.client._models import BulkResult, Campaign, ImportJob, Limits, NewRow, Page, Row
from powerdialer.client._policy import HOLD_STATUSES, OnRetry, Retries
from powerdialer.client._throttle import SyncThrottle
from powerdialer.client._transport import HTTPXTransport, Transport

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

__all__ = ["Client"]


class Client:
    """A synchronous client of a powerdialer server (or of the vendor's compatible endpoint).

    The arguments are :class:`AsyncClient`'s; ``transport`` is a :class:`Transport` or any
    ``httpx.BaseTransport`` (default: httpx's pooled transport).  Use it as
    ``with Client(...) as client:``.
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
        transport: Transport | httpx.BaseTransport | None = None,
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
            transport = HTTPXTransport()
        elif not isinstance(transport, Transport):
            transport = HTTPXTransport(transport)
        self._transport: Transport = transport
        self.throttle = SyncThrottle(rate_limit, rate_burst)

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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _send(self, call: ep.Call[T]) -> T:
        request = self._core.build(call)
        start = tell(call.stream_to)
        attempt = 0
        while True:
            self.throttle.acquire()
            try:
                response = self._transport.handle(request)
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
                time.sleep(delay)

    def add_row(
        self,
        campaign_id: int,
        phone_number: str,
        fio: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> None:
        """Add one number; see :meth:`AsyncClient.add_row`."""
        self._send(ep.add_row(campaign_id, phone_number, fio, idempotency_key))

    def limits(self) -> Limits:
        return self._send(ep.limits())

    def detect_limits(self) -> Limits | None:
        """The server's limits, or None when it does not publish them (e.g. the vendor)."""
        try:
            found = self.limits()
        except (ServerError, RateLimitedError):
            raise
        except APIError:
            return None
        return found if found.bulk_max_rows > 0 else None

    def add_rows(
        self,
        campaign_id: int,
        rows: Iterable[NewRow | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BulkResult:
        return self._send(ep.add_rows(campaign_id, rows, idempotency_key))

    def list_campaigns(self) -> list[Campaign]:
        return self._send(ep.list_campaigns())

    def create_campaign(
        self,
        name: str,
        *,
        duplicate_policy: str | None = None,
        idempotency_key: str | None = None,
    ) -> Campaign:
        return self._send(ep.create_campaign(name, duplicate_policy, idempotency_key))

    def get_campaign(self, campaign_id: int) -> Campaign:
        return self._send(ep.get_campaign(campaign_id))

    def update_campaign(
        self,
        campaign_id: int,
        *,
        name: str | None = None,
        state: str | None = None,
        duplicate_policy: str | None = None,
    ) -> Campaign:
        changes = {"name": name, "state": state, "duplicate_policy": duplicate_policy}
        return self._send(ep.update_campaign(campaign_id, changes))

    def delete_campaign(self, campaign_id: int) -> None:
        self._send(ep.delete_campaign(campaign_id))

    def list_rows(
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
        return self._send(ep.list_rows(campaign_id, params))

    def iter_rows(
        self, campaign_id: int, *, page_size: int | None = None, **filters: Any
    ) -> Iterator[Row]:
        cursor: str | None = None
        while True:
            page = self.list_rows(campaign_id, limit=page_size, cursor=cursor, **filters)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get_row(self, campaign_id: int, row_id: int) -> Row:
        return self._send(ep.get_row(campaign_id, row_id))

    def delete_row(self, campaign_id: int, row_id: int) -> None:
        self._send(ep.delete_row(campaign_id, row_id))

    def delete_rows(self, campaign_id: int) -> int | None:
        return self._send(ep.delete_rows(campaign_id))

    def export(
        self, campaign_id: int, dest: str | os.PathLike[str] | BinaryIO, *, format: str = "csv"
    ) -> None:
        stream, owned = open_dest(dest)
        try:
            self._send(ep.export(campaign_id, format, stream))
        finally:
            if owned:
                stream.close()

    def start_import(
        self,
        campaign_id: int,
        file: str | os.PathLike[str] | BinaryIO,
        *,
        filename: str | None = None,
        mapping: Mapping[str, Any] | None = None,
        keep_valid: bool = False,
        idempotency_key: str | None = None,
    ) -> ImportJob:
        call = ep.start_import(
            campaign_id,
            file,
            filename=filename,
            mapping=mapping,
            keep_valid=keep_valid,
            idempotency_key=idempotency_key,
        )
        return self._send(call)

    def get_import(self, job_id: int | str) -> ImportJob:
        return self._send(ep.get_import(job_id))

    def wait_import(
        self, job_id: int | str, *, poll: float = 1.0, timeout: float | None = None
    ) -> ImportJob:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (job := self.get_import(job_id)).done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"import {job_id} is still {job.status} after {timeout} s")
            time.sleep(poll)
        return job

    def download_rejected(self, job_id: int | str, dest: str | os.PathLike[str] | BinaryIO) -> None:
        stream, owned = open_dest(dest)
        try:
            self._send(ep.rejected_csv(job_id, stream))
        finally:
            if owned:
                stream.close()
