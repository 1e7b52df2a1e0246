"""Requests this service makes to addresses its users give it (webhooks, HTTP click-to-call,
Kamailio's JSON-RPC, the AMI and ESL connections to a PBX): never to the inside of the network
it runs in, unless the operator of the service allows it.

- ``check_url`` reads a URL a user gives (http or https, a host, no credentials) and raises a
  ``ValidationError`` naming the field;
- ``resolve`` turns its host into addresses and refuses the whole name if any address is not
  public (loopback, private, link-local, multicast, reserved, unspecified, carrier-grade NAT,
  the clouds' metadata addresses 169.254.169.254 and fd00:ec2::254, an IPv4 address mapped
  into IPv6…: everything ``ipaddress`` does not call global), unless it is in the allow-list
  (``POWERDIALER_OUTBOUND_ALLOW``, CIDR blocks);
- ``request`` (and ``post``) resolve the host *at send time* and check the addresses in the
  resolver that aiohttp asks, so the connection is made to the checked address itself and
  nothing resolves the name a second time (DNS rebinding), while TLS still verifies the
  certificate of the name and ``Host`` is the name.  ``Client`` does the same over kept-alive
  connections (the webhook sender): each connection it opens is to addresses checked then.
  No redirects are followed, proxies from the environment are ignored, the connect and the
  whole exchange are bounded by timeouts, and at most ``max_bytes`` of the answer are read
  (a keep-alive receiver is not waited for past its ``Content-Length``);
- ``check_host`` is ``check_url``'s twin for a PBX's host name or address, resolved and
  checked when it is saved, and ``open_connection`` the TCP connection to it (AMI, ESL): the
  name resolved and every address checked at connect time, then the connection made to a
  checked address, never to the name.

Past 300 lines on purpose: every way out (a URL's request, the kept-alive client, a PBX's TCP
connection) and the one check they share are in one module, so a reader sees that none of
them goes around it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from powerdialer.errors import ValidationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))
MAX_URL = 2048


class OutboundRefused(Exception):
    """The target may not be reached: its message says why (sent to the delivery log)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # the first ``max_bytes`` of it
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    elapsed_ms: int = 0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True, slots=True)
class Policy:
    """Where requests may go, and how long and how much they may take."""

    allow: tuple[Network, ...] = ()
    connect_timeout: float = 5.0
    timeout: float = 10.0  # the whole exchange
    max_bytes: int = 64 * 1024


def parse_allow(value: str) -> tuple[Network, ...]:
    """``POWERDIALER_OUTBOUND_ALLOW``: CIDR blocks separated by commas (``127.0.0.1/32,
    10.0.0.0/8``); ``ValueError`` naming the bad one."""
    blocks = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            blocks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an address block: use CIDR such as 10.0.0.0/8 or ::1/128"
            ) from None
    return tuple(blocks)


def _bad_url(message: str, field_name: str) -> ValidationError:
    return ValidationError(message, code="invalid_url", field=field_name)


def check_url(value: object, field_name: str = "url") -> Target:
    """A URL a user gave, as a ``Target``; raises ``ValidationError`` (``invalid_url``)."""
    if not isinstance(value, str) or not value.strip():
        raise _bad_url(f"{field_name} must be an http or https URL.", field_name)
    if len(value) > MAX_URL:
        raise _bad_url(f"{field_name} is longer than {MAX_URL} characters.", field_name)
    if any(c in value for c in "\r\n\t ") or not value.isprintable():
        raise _bad_url(f"{field_name} may not hold spaces or control characters.", field_name)
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise _bad_url(
            f"{field_name} must start with https:// (or http://), e.g. https://crm.example.com/hook.",
            field_name,
        )
    if parts.username or parts.password:
        raise _bad_url(f"{field_name} may not carry a user name or password.", field_name)
    host = parts.hostname
    if not host:
        raise _bad_url(f"{field_name} has no host name.", field_name)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _bad_url(f"{field_name} has an invalid port.", field_name) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path)


def refusal(address: Address, allow: Sequence[Network]) -> str | None:
    """Why this address may not be reached (``None``: it may)."""
    if any(address in block for block in allow):
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        inner = refusal(mapped, allow)
        return None if inner is None else f"{address} maps to {inner}"
    if address in METADATA:
        return f"{address} is a cloud metadata address"
    kinds = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for kind, matches in kinds:
        if matches:
            return f"{address} is a {kind} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(target: Target, policy: Policy) -> list[Address]:
    """The target's addresses, every one checked; raises ``OutboundRefused``."""
    literal = _literal(target.host)
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM),
                policy.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise OutboundRefused(f"{target.host} does not resolve ({exc})") from None
        found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not found:
        raise OutboundRefused(f"{target.host} has no address")
    for address in found:
        why = refusal(address, policy.allow)
        if why is not None:
            raise OutboundRefused(
                f"{target.host} refused: {why} (allow it with POWERDIALER_OUTBOUND_ALLOW)"
            )
    return found


async def check_host(host: str, port: int, policy: Policy, field_name: str) -> None:
    """A host a user gave (a PBX's), resolved now: a ``ValidationError`` (``host_refused``,
    naming ``field_name``) if it does not resolve or any address may not be reached."""
    try:
        await resolve(Target("tcp", host, port, "/"), policy)
    except OutboundRefused as exc:
        raise ValidationError(
            f"{field_name} is refused: {exc}.", code="host_refused", field=field_name
        ) from None


async def open_connection(
    host: str, port: int, policy: Policy, *, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to ``host``, resolved now with every address checked, made to the
    checked addresses in turn (no second lookup: a name that later resolves inward is refused
    at the next connect).  Raises ``OutboundRefused`` for a refused target, and the last
    ``OSError`` when no address took the connection."""
    addresses = await resolve(Target("tcp", host, port, "/"), policy)
    failure: OSError = OSError(f"{host} has no address")
    for address in addresses:
        try:
            return await asyncio.open_connection(str(address), port, limit=limit)
        except OSError as exc:
            failure = exc
    raise failure


def networks(blocks: Sequence[str]) -> tuple[Network, ...]:
    """CIDR blocks as networks (already checked when the settings were read)."""
    return tuple(ipaddress.ip_network(block, strict=False) for block in blocks)


class _CheckedResolver(AbstractResolver):
    """What aiohttp connects to: the name's addresses, each checked, or ``OutboundRefused``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve(Target("http", host, port, "/"), self.policy)
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


class Client:
    """Requests over kept-alive connections (the webhook sender's: one connection a receiver,
    not one a delivery).  A connection is only ever opened to addresses resolved and checked
    at that moment (``_CheckedResolver``), so reusing it sends to an address that was checked;
    a name that later resolves inward is refused at the next connection it needs.  Idle
    connections are closed after ``keepalive`` seconds.  Make it inside the event loop that
    uses it; ``close`` when done."""

    def __init__(self, policy: Policy, *, keepalive: float = 15.0) -> None:
        self.policy = policy
        connector = aiohttp.TCPConnector(
            resolver=_CheckedResolver(policy), use_dns_cache=False, keepalive_timeout=keepalive
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=policy.timeout, sock_connect=policy.connect_timeout
            ),
            trust_env=False,
        )

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        data: bytes | str | Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Answer:
        """One request to ``url``.  Raises ``OutboundRefused`` with the reason: a refused
        target, a connection that failed, no answer within the timeout."""
        policy = self.policy
        try:
            target = check_url(url)
        except ValidationError as exc:
            raise OutboundRefused(str(exc)) from None
        literal = _literal(target.host)
        if literal is not None:  # aiohttp connects to an address literal without asking
            await resolve(target, policy)
        started = time.monotonic()
        try:
            async with self._session.request(
                method, url, data=data, json=json, headers=dict(headers), allow_redirects=False
            ) as answer:
                body = b""
                while len(body) < policy.max_bytes:
                    part = await answer.content.read(policy.max_bytes - len(body))
                    if not part:
                        break
                    body += part
                elapsed = int((time.monotonic() - started) * 1000)
                found = {name.lower(): value for name, value in answer.headers.items()}
                return Answer(answer.status, body, found, elapsed)
        except OutboundRefused:
            raise
        except TimeoutError:
            raise OutboundRefused(f"no answer within {policy.timeout:g} seconds") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, OutboundRefused):
                raise exc.os_error from None
            raise OutboundRefused(f"could not connect ({exc.os_error.strerror or exc})") from None
        except aiohttp.ClientError as exc:
            raise OutboundRefused(f"the request failed ({type(exc).__name__})") from None

    async def post(self, url: str, body: bytes, headers: Iterable[tuple[str, str]]) -> Answer:
        return await self.request("POST", url, headers=headers, data=body)


async def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    policy: Policy,
    data: bytes | str | Mapping[str, str] | None = None,
    json: Any = None,
) -> Answer:
    """One request to ``url`` on addresses checked now, on a connection of its own (click-to-
    call, Kamailio).  Raises ``OutboundRefused`` with the reason: a refused target, a
    connection that failed, no answer within the timeout."""
    client = Client(policy)
    try:
        return await client.request(method, url, headers=headers, data=data, json=json)
    finally:
        await client.close()


async def post(url: str, body: bytes, headers: Iterable[tuple[str, str]], policy: Policy) -> Answer:
    """POST ``body`` to ``url`` (:func:`request`)."""
    return await request("POST", url, headers=headers, policy=policy, data=body)
