"""Configuration and request building shared by :class:`Client` and :class:`AsyncClient`."""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from powerdialer import __version__
from powerdialer.client._endpoints import Call
from powerdialer.client._errors import APIError, PowerDialerError
from powerdialer.client._policy import OnRetry, Retries, RetryEvent, api_error
from powerdialer.client._transport import Request, Response

__all__ = ["DEFAULT_TIMEOUT", "VENDOR_URL", "ClientCore"]

VENDOR_URL = "https://api.ringostat.net"
"""Ringostat's API, where the compatible endpoint (``add_row``) is all there is."""
DEFAULT_TIMEOUT = 30.0


class ClientCore:
    def __init__(
        self,
        *,
        base_url: str,
        project_id: int | str | None,
        key: str | None,
        timeout: float,
        retries: Retries | int | None,
        headers: dict[str, str] | None,
        on_retry: OnRetry | None,
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url
        self.project_id = None if project_id is None else str(project_id).strip()
        self._key = key
        self.timeout = timeout
        self.retries = Retries.coerce(retries)
        self.on_retry = on_retry
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"powerdialer-client/{__version__}",
            **(headers or {}),
        }

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(base_url={self.base_url!r}, project_id={self.project_id!r})"

    def build(self, call: Call[Any]) -> Request:
        headers = dict(self._headers)
        if call.auth:
            if self.project_id is not None:
                headers["x-project-id"] = self.project_id
            if self._key is not None:
                headers["Auth-key"] = self._key
        headers.update(call.headers)
        content = call.content
        if content is not None and not isinstance(content, bytes):
            headers["Content-Length"] = str(content.length)
        return Request(
            call.method,
            call.url(self.base_url),
            headers,
            content=content,
            timeout=self.timeout,
            stream_to=call.stream_to,
        )

    @staticmethod
    def finish(call: Call[Any], response: Response) -> Any:
        if response.status >= 300:
            raise api_error(response)
        return call.parse(response)

    def next_delay(self, call: Call[Any], attempt: int, error: PowerDialerError) -> float | None:
        """How long to wait before retrying ``call`` after ``error`` (None: raise it)."""
        if isinstance(error, APIError) and error.status < 300:
            return None  # a 200 that is not a success: retrying will not change it
        delay = self.retries.delay(attempt, error)
        if delay is not None and self.on_retry is not None:
            self.on_retry(RetryEvent(call.method, call.path, attempt, delay, error))
        return delay


def rewind(dest: BinaryIO | None, position: int | None) -> None:
    """Before a retry of a download, drop what a failed attempt wrote."""
    if dest is not None and position is not None:
        dest.seek(position)
        dest.truncate()


def tell(dest: BinaryIO | None) -> int | None:
    if dest is None:
        return None
    try:
        return dest.tell() if dest.seekable() else None
    except (OSError, ValueError):
        return None


def open_dest(dest: str | os.PathLike[str] | BinaryIO) -> tuple[BinaryIO, bool]:
    """A writable binary stream for a download, and whether we opened it (and must close)."""
    if isinstance(dest, str | os.PathLike):
        return open(dest, "wb"), True  # closed by the caller
    return dest, False
