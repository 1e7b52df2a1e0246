"""Requests this service makes to addresses its users give it (webhooks; later telephony):
never to the inside of the network it runs in, unless the operator of the service allows it.

- ``check_url`` reads a URL a user gives (http or https, a host, no credentials) and raises a
  ``ValidationError`` naming the field;
- ``resolve`` turns its host into addresses and refuses the whole name if any address is not
  public (loopback, private, link-local, multicast, reserved, unspecified, carrier-grade NAT,
  the clouds' metadata addresses 169.254.169.254 and fd00:ec2::254, an IPv4 address mapped
  into IPv6…: everything ``ipaddress`` does not call global), unless it is in the allow-list
  (``POWERDIALER_OUTBOUND_ALLOW``, CIDR blocks);
- ``post`` resolves the host *at send time*, checks the addresses, and connects to the checked
  address itself (TLS still verifies the certificate of the name, and ``Host`` is the name), so
  a name that resolves inward later, or differently a second time (DNS rebinding), is refused
  or never asked again; it bounds the connect and the whole exchange by a timeout and reads at
  most ``max_bytes`` of the answer.

A small HTTP/1.1 client of its own, because none of the usual ones connects to an address
chosen in advance while keeping the name for TLS and ``Host``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    headers: dict[str, str]  # lower-case names; the last of a repeated one
    head: bytes  # the first ``max_bytes`` of the body
    elapsed_ms: int


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


def _request(target: Target, body: bytes, headers: Iterable[tuple[str, str]]) -> bytes:
    host = target.host if ":" not in target.host else f"[{target.host}]"
    default = 443 if target.scheme == "https" else 80
    if target.port != default:
        host += f":{target.port}"
    lines = [f"POST {target.path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


async def _exchange(
    target: Target, address: Address, request: bytes, policy: Policy
) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context() if target.scheme == "https" else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            str(address),
            target.port,
            ssl=context,
            server_hostname=target.host if context is not None else None,
        ),
        policy.connect_timeout,
    )
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise OutboundRefused(f"not an HTTP answer: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        size = 0
        while True:
            line = await reader.readline()
            size += len(line)
            if size > policy.max_bytes:
                raise OutboundRefused("the answer's headers are too large")
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        wanted = policy.max_bytes
        length = headers.get("content-length", "")
        if length.isdigit():  # no need to wait for a keep-alive server to close
            wanted = min(wanted, int(length))
        head = b""
        while len(head) < wanted:
            chunk = await reader.read(wanted - len(head))
            if not chunk:
                break
            head += chunk
        return int(parts[1]), headers, head
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def post(url: str, body: bytes, headers: Iterable[tuple[str, str]], policy: Policy) -> Answer:
    """POST ``body`` to ``url`` on an address checked now; raises ``OutboundRefused`` (the
    target may not be reached), ``OSError`` / ``TimeoutError`` (it could not be)."""
    target = check_url(url)
    addresses = await resolve(target, policy)
    request = _request(target, body, headers)
    started = time.monotonic()
    status, answer_headers, head = await asyncio.wait_for(
        _exchange(target, addresses[0], request, policy), policy.timeout
    )
    if answer_headers.get("transfer-encoding", "").lower() == "chunked":
        head = _dechunk(head)
    elapsed = int((time.monotonic() - started) * 1000)
    return Answer(status, answer_headers, head, elapsed)


def _dechunk(data: bytes) -> bytes:
    """The first bytes of a chunked body (as much as was read)."""
    out = b""
    while data:
        size_line, sep, rest = data.partition(b"\r\n")
        if not sep:
            break
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out
