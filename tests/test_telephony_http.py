"""HTTP click-to-call against a fake provider on 127.0.0.1: the vendor's exact shape (form
``extension`` + ``destination``, header ``Auth-key``), the generic template, the provider's
words on a refusal, timeouts, and targets inside the network refused unless allowed."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from powerdialer.telephony.http import MAX_MESSAGE, HttpOriginator

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
LOCAL = [ipaddress.ip_network("127.0.0.1/32")]


@dataclass
class Provider:
    url: str = ""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def success(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok", "call_id": "c-77"})


@asynccontextmanager
async def provider(answer: Answer = success) -> AsyncIterator[Provider]:
    found = Provider()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        found.requests.append((request.method, request.path_qs, dict(request.headers), body))
        return await answer(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}"
    try:
        yield found
    finally:
        await runner.cleanup()


async def test_the_vendors_shape_is_exact() -> None:
    async with provider() as fake:
        call = HttpOriginator(url=f"{fake.url}/callback/outward_call", secret="key-1", allow=LOCAL)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert result.ok, result.message
    assert result.call_id == "c-77"
    ((method, path, headers, body),) = fake.requests
    assert (method, path) == ("POST", "/callback/outward_call")
    assert headers["Auth-key"] == "key-1"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body == b"extension=101&destination=%2B380931234567"


async def test_a_generic_json_template_fills_in_both_fields_as_json() -> None:
    async with provider() as fake:
        call = HttpOriginator(
            url=f"{fake.url}/api/originate",
            secret="tok",
            shape="generic",
            method="PUT",
            content_type="json",
            body='{"from": "{extension}", "to": "{destination}", "auto": true}',
            headers={"X-Tenant": "acme"},
            secret_header="Authorization",
            allow=LOCAL,
        )
        result = await call.originate(
            operator='sip:"101"@pbx', destination="+380931234567", now=NOW
        )
    assert result.ok, result.message
    ((method, _, headers, body),) = fake.requests
    assert method == "PUT"
    assert headers["Authorization"] == "tok"
    assert headers["X-Tenant"] == "acme"
    assert body == b'{"from": "sip:\\"101\\"@pbx", "to": "+380931234567", "auto": true}'


async def test_a_generic_get_puts_the_fields_in_the_query() -> None:
    async with provider() as fake:
        call = HttpOriginator(
            url=f"{fake.url}/dial?key=abc",
            secret=None,
            shape="generic",
            method="GET",
            body="ext={extension}&num={destination}",
            allow=LOCAL,
        )
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert result.ok
    assert fake.requests[0][1] == "/dial?key=abc&ext=101&num=%2B380931234567"


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (403, '{"error": {"message": "Auth-key is invalid"}}', "Auth-key is invalid (HTTP 403)"),
        (400, "extension 101 is not online", "extension 101 is not online (HTTP 400)"),
        (502, "", "HTTP 502"),
        (200, '{"result": false, "message": "SIP account offline"}', "SIP account offline"),
        (200, '{"status": "error", "error": "no balance"}', "no balance"),
    ],
)
async def test_a_refusal_carries_the_providers_words(status: int, body: str, words: str) -> None:
    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=body)

    async with provider(refuse) as fake:
        call = HttpOriginator(url=f"{fake.url}/callback/outward_call", secret="k", allow=LOCAL)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert result.message == words
    assert result.provider_status == str(status)


async def test_the_providers_words_are_one_bounded_line() -> None:
    async def chatty(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="<b>boom</b>\r\n\x1b[31m" + "x" * 5000)

    async with provider(chatty) as fake:
        call = HttpOriginator(url=fake.url, secret="k", allow=LOCAL)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert len(result.message) <= MAX_MESSAGE
    assert "\n" not in result.message
    assert "\x1b" not in result.message
    assert result.message.startswith("<b>boom</b>")  # the screen escapes it when shown


async def test_a_slow_provider_times_out() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.5)
        return web.Response(text="late")

    async with provider(slow) as fake:
        call = HttpOriginator(url=fake.url, secret="k", timeout=0.3, allow=LOCAL)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert "no answer within 0.3 seconds" in result.message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.1.2.3"])
async def test_an_inward_target_is_refused_unless_allowed(host: str) -> None:
    async with provider() as fake:
        port = fake.url.rsplit(":", 1)[1]
        call = HttpOriginator(url=f"http://{host}:{port}/x", secret="k", timeout=2)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert re.search(r"is a (loopback|cloud metadata|private) address", result.message)
    assert "POWERDIALER_OUTBOUND_ALLOW" in result.message
    assert fake.requests == []


async def test_a_redirect_is_not_followed() -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async with provider(moved) as fake:
        call = HttpOriginator(url=fake.url, secret="k", allow=LOCAL)
        result = await call.originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert result.provider_status == "302"
    assert len(fake.requests) == 1
