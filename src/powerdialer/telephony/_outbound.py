"""Safe outbound HTTP for click-to-call: the URL an owner gives is never a way into the network
the service runs in.

The host is resolved when the request is sent, every address is checked (loopback, private,
link-local, the clouds' metadata address, multicast, reserved, carrier-grade NAT: anything
``ipaddress`` does not call global is refused, unless it is in ``allow``, the CIDR blocks of
``POWERDIALER_OUTBOUND_ALLOW``), and the connection is made to the checked address itself:
aiohttp asks our resolver, so nothing resolves the name a second time (DNS rebinding) while
TLS still verifies the certificate of the name.  No redirects are followed, proxies from the
environment are ignored, and at most ``max_bytes`` of the answer are read.

(Its twin for webhooks is ``powerdialer/outbound.py``; the two are to become one.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """The target may not be reached, or did not answer: the message says why."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # at most max_bytes of it
    content_type: str


def refusal(address: Address, allow: Sequence[Network]) -> str | None:
    """Why ``address`` may not be reached; ``None``: it may."""
    if any(address in block for block in allow):
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return refusal(mapped, allow)
    if address.is_global and not address.is_multicast:
        return None
    return f"{address} is not a public address"


def networks(blocks: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(block, strict=False) for block in blocks]


class _CheckedResolver(AbstractResolver):
    def __init__(self, allow: Sequence[Network]) -> None:
        self.allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise OutboundRefused(f"{host} does not resolve ({exc.strerror or exc})") from None
        found: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            address = ipaddress.ip_address(sockaddr[0])
            why = refusal(address, self.allow)
            if why is not None:  # one inward address refuses the name
                raise OutboundRefused(
                    f"{host} refused: {why} (allow it with POWERDIALER_OUTBOUND_ALLOW)"
                )
            found.append(
                ResolveResult(
                    hostname=host,
                    host=str(address),
                    port=int(sockaddr[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not found:
            raise OutboundRefused(f"{host} has no address")
        return found

    async def close(self) -> None:
        return None


async def request(
    method: str,
    url: str,
    *,
    data: Mapping[str, str] | str | None = None,
    json: Any = None,
    headers: Mapping[str, str],
    timeout: float,
    allow: Sequence[Network],
    max_bytes: int = 16 * 1024,
) -> Answer:
    """One request to ``url`` with its checks; ``OutboundRefused`` for a refused target, a
    connection that failed or a timeout, with the reason."""
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:  # aiohttp connects to an address literal without resolving it
        why = refusal(literal, allow)
        if why is not None:
            raise OutboundRefused(f"{why} (allow it with POWERDIALER_OUTBOUND_ALLOW)")
    connector = aiohttp.TCPConnector(resolver=_CheckedResolver(allow), use_dns_cache=False)
    limit = aiohttp.ClientTimeout(total=timeout)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=limit, trust_env=False) as session,
            session.request(
                method,
                url,
                data=data,
                json=json,
                headers=dict(headers),
                allow_redirects=False,
            ) as answer,
        ):
            body = await answer.content.read(max_bytes)
            return Answer(answer.status, body, answer.headers.get("content-type", ""))
    except OutboundRefused:
        raise
    except TimeoutError:
        raise OutboundRefused(f"no answer within {timeout:g} seconds") from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, OutboundRefused):
            raise exc.os_error from None
        raise OutboundRefused(f"could not connect ({exc.os_error.strerror or exc})") from None
    except aiohttp.ClientError as exc:
        raise OutboundRefused(f"the request failed ({type(exc).__name__})") from None


async def post(
    url: str,
    *,
    data: Mapping[str, str] | str | None = None,
    json: Any = None,
    headers: Mapping[str, str],
    timeout: float,
    allow: Sequence[Network],
    max_bytes: int = 16 * 1024,
) -> Answer:
    return await request(
        "POST",
        url,
        data=data,
        json=json,
        headers=headers,
        timeout=timeout,
        allow=allow,
        max_bytes=max_bytes,
    )
