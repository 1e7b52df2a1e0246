"""The FreeSWITCH event-socket originator against a fake event socket on 127.0.0.1 playing
what a real FreeSWITCH sends (auth/request, command/reply, api/response with its
Content-Length body): success, hangup causes, a wrong password, silence, garbage."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os

import pytest

from powerdialer.telephony.esl import EslOriginator
from tests.telephony_fakes import Fake, Handler, fake_server

Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter

pytestmark = pytest.mark.anyio
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
AUTH = b"Content-Type: auth/request\n\n"
ACCEPTED = b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"


def api_response(body: str) -> bytes:
    data = body.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def esl_pbx(answer: str, *, password: str = "ClueCon") -> Handler:
    async def handler(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(AUTH)
        auth = await fake.message(reader)
        if auth != f"auth {password}":
            writer.write(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
            writer.write(b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
            return
        writer.write(ACCEPTED)
        await fake.message(reader)  # the originate
        writer.write(api_response(answer))
        await fake.message(reader)  # exit
        writer.write(b"Content-Type: command/reply\nReply-Text: +OK bye\n\n")

    return handler


def originator(port: int, **changes: object) -> EslOriginator:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "password": "ClueCon",
        "context": "default",
        "caller_id": "+380441234567",
        "timeout": 5.0,
        "allow": LOOPBACK,  # the fake PBX is on 127.0.0.1: allowed, as a LAN PBX must be
    }
    values.update(changes)
    return EslOriginator(**values)  # type: ignore[arg-type]


async def test_originate_rings_the_operator_then_routes_to_the_contact() -> None:
    uuid = "2c8e0b4e-3f3a-4b5d-9a57-5c1f0a7e9d11"
    async with fake_server(esl_pbx(f"+OK {uuid}\n")) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert result.ok, result.message
    assert result.call_id == uuid
    auth, command, goodbye = fake.received
    assert auth == "auth ClueCon"
    assert command == (
        "api originate {origination_caller_id_number=+380441234567,originate_timeout=4,"
        "ignore_early_media=true}user/101 +380931234567 XML default"
    )
    assert goodbye == "exit"


@pytest.mark.parametrize(
    ("answer", "words", "cause"),
    [
        ("-ERR NO_ANSWER\n", "rang but was not answered", "NO_ANSWER"),
        ("-ERR USER_BUSY\n", "busy", "USER_BUSY"),
        ("-ERR SUBSCRIBER_ABSENT\n", "not registered", "SUBSCRIBER_ABSENT"),
        ("-ERR SOME_NEW_CAUSE\n", "some new cause", "SOME_NEW_CAUSE"),
    ],
)
async def test_a_hangup_cause_becomes_the_operators_words(
    answer: str, words: str, cause: str
) -> None:
    async with fake_server(esl_pbx(answer)) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert words in result.message
    assert result.provider_status == cause


async def test_a_wrong_password_is_refused_with_the_pbxs_words() -> None:
    async with fake_server(esl_pbx("+OK x\n", password="other")) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message == "FreeSWITCH: invalid"
    assert len(fake.received) == 1  # nothing sent after the refused auth


async def test_a_socket_that_never_answers_times_out() -> None:
    async def silent(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(AUTH)
        await fake.message(reader)
        writer.write(ACCEPTED)
        await fake.message(reader)
        await asyncio.sleep(5)

    async with fake_server(silent) as fake:
        result = await originator(fake.port, timeout=0.3).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert "within 0.3 seconds" in result.message


@pytest.mark.parametrize(
    "stream",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        AUTH[:-1] + b"garbage without a colon\n\n",
        AUTH + ACCEPTED + b"Content-Type: api/response\nContent-Length: 99999999\n\n",
        AUTH + ACCEPTED + b"Content-Type: api/response\nContent-Length: 5\n\n+O",  # cut short
    ],
)
async def test_garbled_input_is_a_failure_not_a_crash(stream: bytes) -> None:
    async def garbled(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(stream)
        await writer.drain()
        await fake.message(reader)
        await fake.message(reader)

    async with fake_server(garbled) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message.startswith("FreeSWITCH")


@pytest.mark.skipif(
    not os.environ.get("POWERDIALER_TEST_ESL"),
    reason="no FreeSWITCH here: set POWERDIALER_TEST_ESL=host:port:password:context:ext",
)
async def test_a_real_freeswitch_places_the_call() -> None:
    host, port, password, context, ext = os.environ["POWERDIALER_TEST_ESL"].split(":")
    found = EslOriginator(host, int(port), password, context, timeout=30)
    result = await found.originate(operator=ext, destination="+380931234567", now=NOW)
    assert result.ok, result.message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_inward_host_not_allowed_is_refused_before_connecting(host: str) -> None:
    # "localhost" is a name resolved at connect time: what it resolves to is checked then.
    async with fake_server(esl_pbx("+OK 1f\n")) as fake:
        result = await originator(fake.port, host=host, allow=()).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message.startswith(f"FreeSWITCH at {host}:{fake.port}: {host} refused: ")
    assert "loopback" in result.message
    assert "POWERDIALER_OUTBOUND_ALLOW" in result.message
    assert fake.received == []  # nothing was sent: the connection was never made


async def test_an_allowed_name_is_connected_to_at_its_checked_address() -> None:
    async with fake_server(esl_pbx("+OK 1f\n")) as fake:
        result = await originator(fake.port, host="localhost").originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert result.ok, result.message
