"""The Asterisk AMI originator against a fake manager interface on 127.0.0.1 playing the
streams a real Asterisk sends (banner, Login, Originate, the OriginateResponse event among
others): success, the operator's phone failing, a refused login, silence, garbage."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os

import pytest

from powerdialer.telephony.ami import AmiOriginator
from tests.telephony_fakes import Fake, Handler, fake_server

Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter

pytestmark = pytest.mark.anyio
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
BANNER = b"Asterisk Call Manager/7.0.3\r\n"


def fields(message: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in message.splitlines())


def originator(port: int, **changes: object) -> AmiOriginator:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "powerdialer",
        "secret": "s3cret",
        "context": "from-internal",
        "caller_id": "+380441234567",
        "timeout": 5.0,
        "allow": LOOPBACK,  # the fake PBX is on 127.0.0.1: allowed, as a LAN PBX must be
    }
    values.update(changes)
    return AmiOriginator(**values)  # type: ignore[arg-type]


def ami_pbx(
    *, login_ok: bool = True, reason: str = "4", response: str = "Success", hangup: str = ""
) -> Handler:
    async def handler(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(BANNER)
        login = fields(await fake.message(reader))
        if not login_ok:
            writer.write(
                f"Response: Error\r\nActionID: {login['ActionID']}\r\n"
                "Message: Authentication failed\r\n\r\n".encode()
            )
            return
        writer.write(
            f"Response: Success\r\nActionID: {login['ActionID']}\r\n"
            "Message: Authentication accepted\r\n\r\n"
            "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 1234\r\n"
            "LastReload: 1234\r\nStatus: Fully Booted\r\n\r\n".encode()
        )
        call = fields(await fake.message(reader))
        action = call["ActionID"]
        writer.write(
            f"Response: Success\r\nActionID: {action}\r\n"
            "Message: Originate successfully queued\r\n\r\n"
            # Someone else's call's event, then ours.
            "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/101-00000007\r\n"
            "ChannelState: 0\r\nUniqueid: 1733140800.7\r\n\r\n"
            "Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: other-1\r\n"
            "Response: Failure\r\nReason: 5\r\n\r\n"
            f"{hangup}"
            f"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {action}\r\n"
            f"Response: {response}\r\nChannel: PJSIP/101-00000007\r\nContext: from-internal\r\n"
            f"Exten: +380931234567\r\nApplication: \r\nData: \r\nReason: {reason}\r\n"
            "Uniqueid: 1733140800.7\r\nCallerIDNum: +380441234567\r\nCallerIDName: <unknown>\r\n"
            "\r\n".encode()
        )
        await fake.message(reader)  # Logoff
        writer.write(b"Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n")

    return handler


async def test_originate_rings_the_operators_channel_then_sends_it_to_the_contact() -> None:
    async with fake_server(ami_pbx()) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert result.ok, result.message
    assert result.call_id == "1733140800.7"
    login, call, logoff = (fields(m) for m in fake.received)
    assert login["Action"] == "Login"
    assert (login["Username"], login["Secret"]) == ("powerdialer", "s3cret")
    assert call["Action"] == "Originate"
    assert call["Channel"] == "PJSIP/101"
    assert call["Exten"] == "+380931234567"
    assert call["Context"] == "from-internal"
    assert call["Priority"] == "1"
    assert call["Async"] == "true"
    assert call["CallerID"] == "+380441234567"
    assert int(call["Timeout"]) == 4000
    assert call["ActionID"] != login["ActionID"]
    assert logoff["Action"] == "Logoff"


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("3", "rang but was not answered"),
        ("5", "busy"),
        ("8", "congested"),
        ("0", "could not be dialled"),
        ("42", "Reason 42"),
    ],
)
async def test_a_failed_operator_leg_says_why_in_words(reason: str, words: str) -> None:
    async with fake_server(ami_pbx(response="Failure", reason=reason)) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert words in result.message
    assert result.provider_status == reason


async def test_a_refused_login_gives_the_pbxs_words() -> None:
    async with fake_server(ami_pbx(login_ok=False)) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message == "Asterisk: Authentication failed"
    assert len(fake.received) == 1  # no Originate after a refused login


async def test_the_channel_template_places_the_extension() -> None:
    async with fake_server(ami_pbx()) as fake:
        await originator(fake.port, channel="SIP/{extension}@trunk").originate(
            operator="sip-101", destination="+380931234567", now=NOW
        )
    assert fields(fake.received[1])["Channel"] == "SIP/sip-101@trunk"


async def test_a_pbx_that_never_answers_times_out() -> None:
    async def silent(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(BANNER)
        await fake.message(reader)
        await asyncio.sleep(5)  # holds the connection past the originator's timeout

    async with fake_server(silent) as fake:
        result = await originator(fake.port, timeout=0.3).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert "within 0.3 seconds" in result.message


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",  # not a manager interface
        BANNER + b"this is not a header line\r\n\r\n",
    ],
)
async def test_garbled_input_is_a_failure_not_a_crash(stream: bytes) -> None:
    async def garbled(reader: Reader, writer: Writer, fake: Fake) -> None:
        writer.write(stream)
        await fake.message(reader)

    async with fake_server(garbled) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message.startswith("Asterisk: ")


async def test_a_closed_port_is_a_failure_that_names_the_pbx() -> None:
    async with fake_server(ami_pbx()) as fake:
        port = fake.port
    result = await originator(port).originate(operator="101", destination="+380931234567", now=NOW)
    assert not result.ok
    assert f"127.0.0.1:{port} was not reached" in result.message


@pytest.mark.skipif(
    not os.environ.get("POWERDIALER_TEST_AMI"),
    reason="no Asterisk here: set POWERDIALER_TEST_AMI=host:port:user:secret:context:ext",
)
async def test_a_real_asterisk_places_the_call() -> None:
    host, port, user, secret, context, ext = os.environ["POWERDIALER_TEST_AMI"].split(":")
    found = AmiOriginator(host, int(port), user, secret, context, timeout=30)
    result = await found.originate(operator=ext, destination="+380931234567", now=NOW)
    assert result.ok, result.message


async def test_the_operator_channels_hangup_cause_is_told_with_the_reason() -> None:
    hangup = (
        "Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/999-00000001\r\n"
        "Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"  # another channel's
        "Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/101-00000007\r\n"
        "Uniqueid: 1733140800.7\r\nCause: 17\r\nCause-txt: User busy\r\n\r\n"
    )
    async with fake_server(ami_pbx(response="Failure", reason="5", hangup=hangup)) as fake:
        result = await originator(fake.port).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message == "Asterisk: the operator's phone is busy (User busy)"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_inward_host_not_allowed_is_refused_before_connecting(host: str) -> None:
    # "localhost" is a name resolved at connect time: what it resolves to is checked then.
    async with fake_server(ami_pbx()) as fake:
        result = await originator(fake.port, host=host, allow=()).originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert not result.ok
    assert result.message.startswith(f"Asterisk at {host}:{fake.port}: {host} refused: ")
    assert "loopback" in result.message
    assert "POWERDIALER_OUTBOUND_ALLOW" in result.message
    assert fake.received == []  # nothing was sent: the connection was never made


async def test_an_allowed_name_is_connected_to_at_its_checked_address() -> None:
    async with fake_server(ami_pbx()) as fake:
        result = await originator(fake.port, host="localhost").originate(
            operator="101", destination="+380931234567", now=NOW
        )
    assert result.ok, result.message
