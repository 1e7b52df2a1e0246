"""Asterisk Manager Interface (AMI) originate: ring the operator's channel, and once they
answer, send it to ``Exten`` (the contact's number) in the project's ``Context``.

A small asyncio client of our own (about the size of the protocol we speak): the maintained
Python AMI libraries are thin (panoramisk's last release is from 2021) and would bring an
event loop policy and a reconnecting manager we do not want for one action a call.  One TCP
connection a call, to the host resolved at connect time with every address checked
(:func:`powerdialer.outbound.open_connection`: an inward address only if ``allow`` has it):

1. read the banner (``Asterisk Call Manager/…``);
2. ``Action: Login`` (``Username``, ``Secret``, ``Events: call``): ``Response: Success``, or
   the PBX's ``Message`` (``Authentication failed``);
3. ``Action: Originate`` with ``Channel`` (the operator's, from the channel template),
   ``Exten``, ``Context``, ``Priority: 1``, ``Async: true``, ``Timeout`` (ms the operator's
   phone rings), ``CallerID`` and an ``ActionID``; its ``Response`` says whether it was
   queued;
4. wait for the ``OriginateResponse`` event of that ``ActionID``: ``Response: Success`` means
   the operator answered (the PBX now dials the contact); ``Failure`` carries a ``Reason``
   (:data:`REASONS`), told with the ``Cause-txt`` of the operator channel's ``Hangup`` event
   when one came first;
5. ``Action: Logoff``.

A message is ``Key: Value`` lines ended by an empty line (CRLF; bare LF is read too).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from dataclasses import dataclass

from powerdialer import outbound
from powerdialer.telephony.base import CallResult

# OriginateResponse's Reason: Asterisk's control frame of the operator's leg.
REASONS = {
    "0": "the operator's channel could not be dialled (no such extension, or it is offline)",
    "1": "the operator's phone hung up",
    "3": "the operator's phone rang but was not answered",
    "5": "the operator's phone is busy",
    "8": "the operator's channel is congested or unavailable",
}
MAX_LINE = 8192
MAX_MESSAGES = 10_000  # events to read past while waiting for ours
_ids = itertools.count(1)


class ProtocolError(Exception):
    pass


def encode(fields: list[tuple[str, str]]) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in fields).encode() + b"\r\n"


async def read_message(reader: asyncio.StreamReader) -> dict[str, str]:
    message: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ProtocolError("the PBX closed the connection")
        if len(line) > MAX_LINE:
            raise ProtocolError("the PBX sent an over-long line")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, sep, value = text.partition(":")
        if not sep or not key.strip():
            raise ProtocolError("the PBX sent something that is not AMI")
        message[key.strip().lower()] = value.strip()


@dataclass(frozen=True, slots=True)
class AmiOriginator:
    host: str
    port: int
    username: str
    secret: str
    context: str
    channel: str = "PJSIP/{extension}"  # the operator's channel, from their extension
    caller_id: str | None = None
    timeout: float = 30.0  # the whole exchange, the operator's ringing included
    # The networks ``host`` may be in besides public ones (POWERDIALER_OUTBOUND_ALLOW): a PBX
    # on the LAN needs its block listed; checked after resolving, at every connect.
    allow: tuple[outbound.Network, ...] = ()

    async def originate(self, *, operator: str, destination: str, now: dt.datetime) -> CallResult:
        try:
            return await asyncio.wait_for(self._originate(operator, destination), self.timeout)
        except TimeoutError:
            return CallResult(
                ok=False, message=f"no answer from Asterisk within {self.timeout:g} seconds"
            )
        except OSError as exc:
            return CallResult(
                ok=False,
                message=f"Asterisk at {self.host}:{self.port} was not reached "
                f"({exc.strerror or type(exc).__name__})",
            )
        except outbound.OutboundRefused as exc:
            return CallResult(ok=False, message=f"Asterisk at {self.host}:{self.port}: {exc}")
        except ProtocolError as exc:
            return CallResult(ok=False, message=f"Asterisk: {exc}")

    async def _originate(self, operator: str, destination: str) -> CallResult:
        policy = outbound.Policy(allow=self.allow, connect_timeout=self.timeout)
        reader, writer = await outbound.open_connection(
            self.host, self.port, policy, limit=MAX_LINE * 2
        )
        try:
            banner = await reader.readline()
            if not banner.startswith(b"Asterisk Call Manager"):
                raise ProtocolError("the server is not an Asterisk manager interface")
            login_id, call_id = f"pd-{next(_ids)}", f"pd-{next(_ids)}"
            writer.write(
                encode(
                    [
                        ("Action", "Login"),
                        ("ActionID", login_id),
                        ("Username", self.username),
                        ("Secret", self.secret),
                        ("Events", "call"),
                    ]
                )
            )
            answer = await self._reply(reader, login_id)
            if answer.get("response", "").lower() != "success":
                words = answer.get("message") or "login refused"
                return CallResult(ok=False, message=f"Asterisk: {words}", provider_status="login")
            ring_ms = max(1000, int((self.timeout - 1) * 1000))
            action = [
                ("Action", "Originate"),
                ("ActionID", call_id),
                ("Channel", self.channel.replace("{extension}", operator)),
                ("Exten", destination),
                ("Context", self.context),
                ("Priority", "1"),
                ("Async", "true"),
                ("Timeout", str(ring_ms)),
            ]
            if self.caller_id:
                action.append(("CallerID", self.caller_id))
            writer.write(encode(action))
            queued = await self._reply(reader, call_id)
            if queued.get("response", "").lower() != "success":
                words = queued.get("message") or "Originate refused"
                return CallResult(ok=False, message=f"Asterisk: {words}")
            leg = self.channel.replace("{extension}", operator)
            event, cause = await self._event(reader, call_id, leg)
            writer.write(encode([("Action", "Logoff")]))
            return self._result(event, cause)
        finally:
            writer.close()
            with contextlib.suppress(OSError, ProtocolError, asyncio.TimeoutError):
                await writer.wait_closed()

    async def _reply(self, reader: asyncio.StreamReader, action_id: str) -> dict[str, str]:
        for _ in range(MAX_MESSAGES):
            message = await read_message(reader)
            if "response" in message and message.get("actionid", action_id) == action_id:
                return message
        raise ProtocolError("no reply to our action")

    async def _event(
        self, reader: asyncio.StreamReader, action_id: str, leg: str
    ) -> tuple[dict[str, str], str | None]:
        """Our OriginateResponse, and the hangup cause of the operator's channel if it hung
        up before (``Hangup`` events of channels named ``<leg>-…``)."""
        cause = None
        for _ in range(MAX_MESSAGES):
            message = await read_message(reader)
            kind = message.get("event", "").lower()
            if kind == "originateresponse" and message.get("actionid") == action_id:
                return message, cause
            if kind == "hangup" and message.get("channel", "").startswith(f"{leg}-"):
                cause = message.get("cause-txt") or message.get("cause") or cause
        raise ProtocolError("no OriginateResponse for our call")

    @staticmethod
    def _result(event: dict[str, str], cause: str | None = None) -> CallResult:
        reason = event.get("reason", "")
        unique = event.get("uniqueid") or None
        if event.get("response", "").lower() == "success":
            return CallResult(ok=True, provider_status=reason or None, call_id=unique)
        words = REASONS.get(reason, f"the call failed (Reason {reason or 'unknown'})")
        if cause:
            words = f"{words} ({cause[:80]})"
        return CallResult(ok=False, message=f"Asterisk: {words}", provider_status=reason or None)
