"""FreeSWITCH event socket (ESL, inbound mode) originate: ring the operator (``user/101`` from
the channel template), and once they answer, send the call to the contact's number in the
project's dialplan context.

A small asyncio client of our own, for the same reasons as :mod:`.ami` (greenswitch needs
gevent; the rest are unmaintained).  One TCP connection a call, to a checked address as in
:mod:`.ami`:

1. the server greets with ``Content-Type: auth/request``;
2. ``auth <password>``: ``Reply-Text: +OK accepted``, or ``-ERR invalid``;
3. ``api originate {origination_caller_id_number=…,originate_timeout=…}user/101
   +380931234567 XML default``: the answer (``Content-Type: api/response`` with a body of
   ``Content-Length`` bytes) comes when the operator's leg is answered or fails:
   ``+OK <uuid>``, or ``-ERR <hangup cause>`` (:data:`CAUSES`);
4. ``exit``.

A message is ``Key: Value`` lines ended by an empty line (LF), then ``Content-Length`` bytes
of body when it has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass

from powerdialer import outbound
from powerdialer.telephony.ami import MAX_LINE, ProtocolError
from powerdialer.telephony.base import CallResult

# The hangup causes an originate's -ERR names, in words for the operator.
CAUSES = {
    "NO_ANSWER": "the operator's phone rang but was not answered",
    "NO_USER_RESPONSE": "the operator's phone did not respond",
    "ORIGINATOR_CANCEL": "the call was cancelled",
    "USER_BUSY": "the operator's phone is busy",
    "CALL_REJECTED": "the operator's phone rejected the call",
    "USER_NOT_REGISTERED": "the operator's phone is not registered",
    "SUBSCRIBER_ABSENT": "the operator's phone is not registered",
    "UNALLOCATED_NUMBER": "no such extension",
    "NO_ROUTE_DESTINATION": "no route to the operator's extension",
    "NORMAL_TEMPORARY_FAILURE": "a temporary failure on the PBX",
    "RECOVERY_ON_TIMER_EXPIRE": "the operator's phone did not answer in time",
    "DESTINATION_OUT_OF_ORDER": "the operator's phone is out of order",
    "INVALID_GATEWAY": "the gateway does not exist",
}
MAX_BODY = 64 * 1024


async def read_message(reader: asyncio.StreamReader) -> tuple[dict[str, str], str]:
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ProtocolError("the PBX closed the connection")
        if len(line) > MAX_LINE:
            raise ProtocolError("the PBX sent an over-long line")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if headers:
                break
            continue
        key, sep, value = text.partition(":")
        if not sep or not key.strip():
            raise ProtocolError("the PBX sent something that is not the event socket protocol")
        headers[key.strip().lower()] = value.strip()
    body = ""
    if "content-length" in headers:
        try:
            size = int(headers["content-length"])
        except ValueError:
            raise ProtocolError("the PBX sent a bad Content-Length") from None
        if not 0 <= size <= MAX_BODY:
            raise ProtocolError("the PBX sent an over-long body")
        body = (await reader.readexactly(size)).decode("utf-8", "replace")
    return headers, body


@dataclass(frozen=True, slots=True)
class EslOriginator:
    host: str
    port: int
    password: str
    context: str = "default"
    channel: str = "user/{extension}"
    caller_id: str | None = None
    timeout: float = 30.0  # the whole exchange, the operator's ringing included
    # The networks ``host`` may be in besides public ones (POWERDIALER_OUTBOUND_ALLOW): a PBX
    # on the LAN needs its block listed; checked after resolving, at every connect.
    allow: tuple[outbound.Network, ...] = ()

    def command(self, operator: str, destination: str) -> str:
        ring = max(1, int(self.timeout) - 1)
        variables = [f"originate_timeout={ring}", "ignore_early_media=true"]
        if self.caller_id:
            variables.insert(0, f"origination_caller_id_number={self.caller_id}")
        leg = self.channel.replace("{extension}", operator)
        return f"api originate {{{','.join(variables)}}}{leg} {destination} XML {self.context}"

    async def originate(self, *, operator: str, destination: str, now: dt.datetime) -> CallResult:
        try:
            return await asyncio.wait_for(self._originate(operator, destination), self.timeout)
        except TimeoutError:
            return CallResult(
                ok=False, message=f"no answer from FreeSWITCH within {self.timeout:g} seconds"
            )
        except (OSError, asyncio.IncompleteReadError) as exc:
            return CallResult(
                ok=False,
                message=f"FreeSWITCH at {self.host}:{self.port} was not reached or hung up "
                f"({getattr(exc, 'strerror', None) or type(exc).__name__})",
            )
        except outbound.OutboundRefused as exc:
            return CallResult(ok=False, message=f"FreeSWITCH at {self.host}:{self.port}: {exc}")
        except ProtocolError as exc:
            return CallResult(ok=False, message=f"FreeSWITCH: {exc}")

    async def _originate(self, operator: str, destination: str) -> CallResult:
        policy = outbound.Policy(allow=self.allow, connect_timeout=self.timeout)
        reader, writer = await outbound.open_connection(
            self.host, self.port, policy, limit=MAX_LINE * 2
        )
        try:
            greeting, _ = await read_message(reader)
            if greeting.get("content-type") != "auth/request":
                raise ProtocolError("the server is not a FreeSWITCH event socket")
            writer.write(f"auth {self.password}\n\n".encode())
            reply, _ = await read_message(reader)
            text = reply.get("reply-text", "")
            if not text.startswith("+OK"):
                words = text.removeprefix("-ERR").strip() or "login refused"
                return CallResult(ok=False, message=f"FreeSWITCH: {words}", provider_status="auth")
            writer.write(f"{self.command(operator, destination)}\n\n".encode())
            while True:
                headers, body = await read_message(reader)
                if headers.get("content-type") == "api/response":
                    break
                if headers.get("content-type") == "text/disconnect-notice":
                    raise ProtocolError("the PBX closed the connection")
            writer.write(b"exit\n\n")
            return self._result(body.strip())
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await writer.wait_closed()

    @staticmethod
    def _result(body: str) -> CallResult:
        if body.startswith("+OK"):
            return CallResult(ok=True, call_id=body.removeprefix("+OK").strip() or None)
        cause = body.removeprefix("-ERR").strip().split()[0] if body.startswith("-ERR") else ""
        if cause:
            words = CAUSES.get(cause, cause.replace("_", " ").lower())
            return CallResult(ok=False, message=f"FreeSWITCH: {words}", provider_status=cause)
        return CallResult(ok=False, message="FreeSWITCH: an answer that is neither +OK nor -ERR")
