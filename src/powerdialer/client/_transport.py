"""Transports: what actually moves bytes.  The clients speak to a tiny interface
(:class:`Transport` / :class:`AsyncTransport`: a :class:`Request` in, a :class:`Response` out),
so tests inject ``httpx.ASGITransport`` or ``httpx.MockTransport`` and production picks the
fastest library available.

Why two libraries: measured on this project's 2-core machine against ``powerdialer serve``
(single-row POSTs, keep-alive), httpx 0.28's async pool managed ≈ 550 req/s at 8 connections
and 150–200 at 32–64 (its pool lock, encode/httpx#3215), aiohttp ≈ 3,000 at every concurrency
(the server was the limit).  So :class:`AsyncClient` defaults to aiohttp; the synchronous
:class:`Client`, used one request at a time, defaults to httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from powerdialer.client._errors import TransportError

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = [
    "AiohttpTransport",
    "AsyncHTTPXTransport",
    "AsyncTransport",
    "HTTPXTransport",
    "Request",
    "Response",
    "StreamBody",
    "Transport",
]


class StreamBody(Protocol):
    """A body produced in chunks (a file upload): replayable, with a known length."""

    length: int

    def chunks(self) -> Iterator[bytes]: ...

    def achunks(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | StreamBody | None = None
    timeout: float = 30.0
    stream_to: BinaryIO | None = None
    """When set, a 200 answer's body is written here in chunks instead of kept in memory."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    content: bytes = b""
    extensions: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Transport(Protocol):
    def handle(self, request: Request) -> Response: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncTransport(Protocol):
    async def handle(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


def _timeouts(seconds: float) -> dict[str, float]:
    return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}


def _httpx_error(exc: Exception) -> TransportError:
    import httpx

    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "connect_error"
    if isinstance(exc, httpx.RemoteProtocolError):
        code = "disconnected"
    return TransportError(f"{type(exc).__name__}: {exc}", code=code)


class HTTPXTransport:
    """Synchronous transport over any ``httpx.BaseTransport`` (default: a pooled
    ``httpx.HTTPTransport``)."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        import httpx

        self._transport = transport or httpx.HTTPTransport()

    def handle(self, request: Request) -> Response:
        import httpx

        content = request.content
        body = (
            content.chunks() if content is not None and not isinstance(content, bytes) else content
        )
        outgoing = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=body,
            extensions={"timeout": _timeouts(request.timeout)},
        )
        try:
            answer = self._transport.handle_request(outgoing)
            try:
                if request.stream_to is not None and answer.status_code == 200:
                    for chunk in answer.iter_raw():
                        request.stream_to.write(chunk)
                    data = b""
                else:
                    data = answer.read()
            finally:
                answer.close()
        except httpx.TransportError as exc:
            raise _httpx_error(exc) from exc
        headers = {k.lower(): v for k, v in answer.headers.items()}
        return Response(answer.status_code, headers, data)

    def close(self) -> None:
        self._transport.close()


class AsyncHTTPXTransport:
    """Asynchronous transport over any ``httpx.AsyncBaseTransport``, e.g.
    ``httpx.ASGITransport(app=...)`` to call an app in process."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        import httpx

        self._transport = transport or httpx.AsyncHTTPTransport()

    async def handle(self, request: Request) -> Response:
        import httpx

        content = request.content
        body = (
            content.achunks() if content is not None and not isinstance(content, bytes) else content
        )
        outgoing = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=body,
            extensions={"timeout": _timeouts(request.timeout)},
        )
        try:
            answer = await self._transport.handle_async_request(outgoing)
            try:
                if request.stream_to is not None and answer.status_code == 200:
                    async for chunk in answer.aiter_raw():
                        request.stream_to.write(chunk)
                    data = b""
                else:
                    data = await answer.aread()
            finally:
                await answer.aclose()
        except httpx.TransportError as exc:
            raise _httpx_error(exc) from exc
        headers = {k.lower(): v for k, v in answer.headers.items()}
        return Response(answer.status_code, headers, data)

    async def aclose(self) -> None:
        await self._transport.aclose()


class AiohttpTransport:
    """The default asynchronous transport: an aiohttp session with up to ``max_connections``
    keep-alive connections, opened in the running event loop on first use."""

    def __init__(self, *, max_connections: int = 100, trust_env: bool = True) -> None:
        self.max_connections = max_connections
        self.trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0)
        # trust_env is applied here, once per host, not by aiohttp: its trust_env looks the
        # proxy up in a thread for every request, two thread hops a row (measured: a third
        # of the client's time at 1,500 rows/s).
        self._session = aiohttp.ClientSession(
            connector=connector, trust_env=False, auto_decompress=True
        )
        return self._session

    def _proxy(self, url: str) -> str | None:
        if not self.trust_env:
            return None
        origin = url.split("/", 3)[:3]
        host_key = "/".join(origin)
        if host_key not in self._proxies:
            import urllib.request

            scheme, host = origin[0].rstrip(":"), origin[2].split("@")[-1]
            proxies = urllib.request.getproxies()
            bypass = urllib.request.proxy_bypass(host.split(":")[0]) if proxies else True
            self._proxies[host_key] = None if bypass else proxies.get(scheme)
        return self._proxies[host_key]

    async def handle(self, request: Request) -> Response:
        import aiohttp

        session = self._session or self._open()
        content = request.content
        data = (
            content.achunks() if content is not None and not isinstance(content, bytes) else content
        )
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=data,
                timeout=aiohttp.ClientTimeout(total=request.timeout),
                allow_redirects=False,
                proxy=self._proxy(request.url),
            ) as answer:
                if request.stream_to is not None and answer.status == 200:
                    async for chunk in answer.content.iter_chunked(1 << 16):
                        request.stream_to.write(chunk)
                    body = b""
                else:
                    body = await answer.read()
                headers = {k.lower(): v for k, v in answer.headers.items()}
                return Response(answer.status, headers, body)
        except TimeoutError as exc:
            raise TransportError(f"no answer within {request.timeout:g} s", code="timeout") from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise TransportError(
                f"the server closed the connection ({exc})", code="disconnected"
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", code="connect_error") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # let aiohttp close its sockets before the loop ends
