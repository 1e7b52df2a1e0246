"""Safe targets (``powerdialer.outbound``): addresses inside refused unless allowed, URLs
read strictly, the answer's size capped, timeouts."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from powerdialer.errors import ValidationError
from powerdialer.outbound import (
    Client,
    OutboundRefused,
    Policy,
    check_url,
    parse_allow,
    post,
    refusal,
    resolve,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "public"),  # carrier-grade NAT: not global
        ("::ffff:127.0.0.1", "maps to"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_addresses_inside_are_refused(address: str, kind: str) -> None:
    why = refusal(ipaddress.ip_address(address), ())
    assert why is not None
    assert kind in why


def test_public_addresses_and_allowed_blocks_pass() -> None:
    assert refusal(ipaddress.ip_address("93.184.216.34"), ()) is None
    assert refusal(ipaddress.ip_address("2606:4700::1111"), ()) is None
    allow = parse_allow("127.0.0.1/32, 10.0.0.0/8")
    assert refusal(ipaddress.ip_address("127.0.0.1"), allow) is None
    assert refusal(ipaddress.ip_address("10.9.9.9"), allow) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), allow) is not None
    with pytest.raises(ValueError, match="not an address block"):
        parse_allow("10.0.0.0/8,intranet")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://crm.example.com/hook",
        "https://user:pw@crm.example.com/hook",
        "https:///hook",
        "https://crm.example.com:99999/hook",
        "https://crm.example.com/a b",
        "",
        42,
        "https://crm.example.com/" + "x" * 2100,
    ],
)
def test_bad_urls_name_the_field(url: object) -> None:
    with pytest.raises(ValidationError) as refused:
        check_url(url, "url")
    assert refused.value.code == "invalid_url"
    assert refused.value.field == "url"


async def test_a_name_is_refused_when_it_resolves_inside() -> None:
    # "localhost" resolves on this machine, to 127.0.0.1 and/or ::1: both refused.
    with pytest.raises(OutboundRefused, match="localhost refused"):
        await resolve(check_url("http://localhost:9/x"), Policy())
    allowed = Policy(allow=parse_allow("127.0.0.0/8,::1/128"))
    assert await resolve(check_url("http://localhost:9/x"), allowed)


async def _server(answer: bytes, delay: float = 0.0) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(delay)
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_the_answer_is_capped_and_a_slow_receiver_times_out() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000
    server, port = await _server(big)
    policy = Policy(allow=parse_allow("127.0.0.1/32"), max_bytes=1000, timeout=2.0)
    try:
        answer = await post(f"http://127.0.0.1:{port}/h", b"{}", [], policy)
    finally:
        server.close()
    assert answer.status == 200
    assert len(answer.body) == 1000
    server, port = await _server(b"HTTP/1.1 200 OK\r\n\r\n", delay=5.0)
    try:
        with pytest.raises(OutboundRefused, match="no answer within"):
            await post(
                f"http://127.0.0.1:{port}/h",
                b"{}",
                [],
                Policy(allow=parse_allow("127.0.0.1/32"), timeout=0.3),
            )
    finally:
        server.close()


async def test_refused_before_any_connection() -> None:
    with pytest.raises(OutboundRefused, match=r"169\.254\.169\.254 is a cloud metadata address"):
        await post("http://169.254.169.254/latest/meta-data", b"{}", [], Policy())


async def test_a_keep_alive_receiver_is_not_waited_for_past_its_content_length() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(5)  # keeps the connection open
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = Policy(allow=parse_allow("127.0.0.1/32"), timeout=1.0)
    try:
        answer = await post(f"http://127.0.0.1:{port}/h", b"{}", [], policy)
    finally:
        server.close()
    assert answer.status == 200
    assert answer.body == b"ok"


async def _keep_alive_server(answer: bytes) -> tuple[asyncio.Server, int, list[int]]:
    """A server that answers every request of a connection; ``counts`` has one entry per
    connection: how many requests it carried."""
    counts: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counts.append(0)
        mine = len(counts) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                counts[mine] += 1
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], counts


async def test_the_client_reuses_a_connection_it_opened_to_a_checked_address() -> None:
    server, port, counts = await _keep_alive_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    client = Client(Policy(allow=parse_allow("127.0.0.1/32"), timeout=2.0))
    try:
        for _ in range(3):
            answer = await client.post(f"http://127.0.0.1:{port}/h", b"{}", [])
            assert (answer.status, answer.body) == (200, b"ok")
        # Refused before any connection, kept or new, whatever the client holds.
        with pytest.raises(OutboundRefused, match="loopback"):
            await client.post(f"http://127.0.0.2:{port}/h", b"{}", [])
    finally:
        await client.close()
        server.close()
    assert counts == [3]  # one connection, three deliveries


async def test_an_answer_cut_at_the_cap_does_not_spoil_the_next_request() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000
    server, port, counts = await _keep_alive_server(big)
    client = Client(Policy(allow=parse_allow("127.0.0.1/32"), max_bytes=100, timeout=2.0))
    try:
        for _ in range(2):
            answer = await client.post(f"http://127.0.0.1:{port}/h", b"{}", [])
            assert (answer.status, answer.body) == (200, b"x" * 100)
    finally:
        await client.close()
        server.close()
    assert sum(counts) == 2  # the unread rest is not taken for the next answer
