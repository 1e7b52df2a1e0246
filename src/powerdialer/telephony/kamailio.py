"""Server-side click-to-call through Kamailio's dialog bridge (docs/telephony.md, "Kamailio
click-to-call").

:class:`KamailioBridge` is an :class:`~powerdialer.telephony.base.Originator`: it asks
Kamailio's JSON-RPC (``POST /RPC``, module ``jsonrpcs`` over ``xhttp``) for
``dlg.bridge_dlg [operator, contact, outbound proxy]``.  Kamailio then rings the operator's
phone first (an INVITE from its bridge controller) and, once the operator answers, sends them a
REFER to the contact: the operator's phone places the second leg itself.

``dlg.bridge_dlg`` answers as soon as the first INVITE is sent, so "the provider took the
call" would say nothing about the operator.  With ``answer_timeout`` (the default) the bridge
waits until the operator's leg is answered, reading ``dlg.list``, and answers ``ok=False``
with "the operator did not answer" otherwise: the screen then pauses the operator instead of
feeding them contacts their phone never takes.

The operator is a SIP URI (``sip:101@pbx.example``) or a bare extension (``101``, put under
``sip_domain``); the destination is an E.164 number, dialled as ``destination_template`` says
(``sip:{digits}@{domain}`` by default).  Both are checked before anything is sent: nothing a
member typed can add a header or a second URI to what Kamailio sends."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from typing import Any

from powerdialer import outbound
from powerdialer.telephony.base import CallResult

DEFAULT_DESTINATION_TEMPLATE = "sip:{digits}@{domain}"
MAX_ANSWER_BYTES = 1 << 20  # dlg.list on a busy server is long; more than this is not Kamailio
_MESSAGE_LIMIT = 300
_USER = re.compile(r"^[A-Za-z0-9_.+*#-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")
_URI = re.compile(r"^sips?:[A-Za-z0-9_.+*#-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")
_E164 = re.compile(r"^\+[1-9][0-9]{5,14}$")


class KamailioBridge:
    """``originate`` through ``dlg.bridge_dlg`` at ``rpc_url`` (``http://127.0.0.1:8088/RPC``).

    ``outbound_proxy`` is Kamailio's own SIP address (``sip:127.0.0.1:5060``): the bridge's
    INVITE goes through Kamailio's routing, so the operator is found in its registrar.
    ``answer_timeout``: seconds to wait for the operator to answer; ``None`` answers at once.
    ``allow``: the networks ``rpc_url`` may be in besides public ones (JSON-RPC is usually on
    loopback or a private network: ``POWERDIALER_OUTBOUND_ALLOW``); every request goes through
    the checked outbound HTTP of :mod:`powerdialer.outbound`."""

    def __init__(
        self,
        rpc_url: str,
        *,
        sip_domain: str,
        outbound_proxy: str,
        destination_template: str = DEFAULT_DESTINATION_TEMPLATE,
        answer_timeout: float | None = 30.0,
        timeout: float = 5.0,
        allow: Sequence[outbound.Network] = (),
    ) -> None:
        if not rpc_url.startswith(("http://", "https://")):
            raise ValueError("rpc_url must start with http:// or https://")
        if not _HOST.match(sip_domain):
            raise ValueError("sip_domain must be a host name or address, with an optional port")
        if not re.match(
            r"^sips?:[A-Za-z0-9.-]+(:[0-9]{1,5})?(;transport=(udp|tcp|tls))?$", outbound_proxy
        ):
            raise ValueError("outbound_proxy must look like sip:127.0.0.1:5060")
        if "{digits}" not in destination_template and "{e164}" not in destination_template:
            raise ValueError("destination_template must name {digits} or {e164}")
        self.rpc_url = rpc_url
        self.sip_domain = sip_domain
        self.outbound_proxy = outbound_proxy
        self.destination_template = destination_template
        self.answer_timeout = answer_timeout
        self.timeout = timeout
        self.allow = tuple(allow)

    def operator_uri(self, operator: str) -> str | None:
        text = operator.strip()
        if _URI.match(text):
            return text
        if _USER.match(text):
            return f"sip:{text}@{self.sip_domain}"
        return None

    def destination_uri(self, destination: str) -> str | None:
        if not _E164.match(destination):
            return None
        uri = self.destination_template.format_map(
            {"digits": destination[1:], "e164": destination, "domain": self.sip_domain}
        )
        return uri if _URI.match(uri) else None

    async def originate(self, *, operator: str, destination: str, now: dt.datetime) -> CallResult:
        # ``now`` is part of the interface (a provider that schedules); the bridge acts at once.
        del now
        operator_uri = self.operator_uri(operator)
        if operator_uri is None:
            return CallResult(
                False, f"the operator's extension {operator[:64]!r} is not a SIP user"
            )
        contact_uri = self.destination_uri(destination)
        if contact_uri is None:
            return CallResult(False, f"the number {destination[:32]!r} cannot be dialled as SIP")
        return await self._originate(operator_uri, contact_uri)

    async def _originate(self, operator_uri: str, contact_uri: str) -> CallResult:
        try:
            before = _dialog_ids(await self._rpc("dlg.list")) if self.answer_timeout else set()
            await self._rpc("dlg.bridge_dlg", operator_uri, contact_uri, self.outbound_proxy)
        except _RpcError as exc:
            return CallResult(False, exc.message, provider_status=exc.status)
        if not self.answer_timeout:
            return CallResult(True, "the operator's phone is ringing")
        return await self._await_operator(operator_uri, before)

    async def _await_operator(self, operator_uri: str, before: set[tuple[Any, Any]]) -> CallResult:
        assert self.answer_timeout is not None
        deadline = time.monotonic() + self.answer_timeout
        while True:
            try:
                dialogs = await self._rpc("dlg.list")
            except _RpcError as exc:
                return CallResult(False, exc.message, provider_status=exc.status)
            leg = _operator_leg(dialogs, operator_uri, before)
            if leg is not None and int(leg.get("start_ts") or 0) > 0:
                return CallResult(True, "the operator answered", call_id=_text(leg.get("call-id")))
            if leg is not None and int(leg.get("state") or 0) == 5:  # ended, never answered
                return CallResult(
                    False, "the operator did not answer", provider_status="unanswered"
                )
            if time.monotonic() >= deadline:
                return CallResult(False, "the operator did not answer", provider_status="timeout")
            await asyncio.sleep(0.05)

    async def _rpc(self, method: str, *params: str) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        try:
            answer = await outbound.request(
                "POST",
                self.rpc_url,
                json=body,
                headers={},
                policy=outbound.Policy(
                    allow=tuple(self.allow), timeout=self.timeout, max_bytes=MAX_ANSWER_BYTES
                ),
            )
        except outbound.OutboundRefused as exc:
            raise _RpcError(f"Kamailio's JSON-RPC was not reached: {exc}") from None
        status = answer.status
        try:
            parsed = json.loads(answer.body)
        except ValueError:
            raise _RpcError(
                f"Kamailio's JSON-RPC answered HTTP {status} without JSON", str(status)
            ) from None
        if not isinstance(parsed, dict):
            raise _RpcError("Kamailio's JSON-RPC answer is not an object", str(status))
        error = parsed.get("error")
        if error is not None:
            words = error.get("message") if isinstance(error, dict) else error
            code = error.get("code") if isinstance(error, dict) else None
            raise _RpcError(f"Kamailio {method}: {_text(words)}", _text(code) or str(status))
        if status != 200:
            raise _RpcError(f"Kamailio's JSON-RPC answered HTTP {status}", str(status))
        return parsed.get("result")


class _RpcError(Exception):
    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message[:_MESSAGE_LIMIT]
        self.status = status


def _text(value: object) -> str | None:
    return None if value is None else str(value)[:_MESSAGE_LIMIT]


def _dialogs(result: Any) -> list[dict[str, Any]]:
    return [d for d in result if isinstance(d, dict)] if isinstance(result, list) else []


def _dialog_ids(result: Any) -> set[tuple[Any, Any]]:
    return {(d.get("h_entry"), d.get("h_id")) for d in _dialogs(result)}


def _operator_leg(
    result: Any, operator_uri: str, before: set[tuple[Any, Any]]
) -> dict[str, Any] | None:
    """The bridge's new dialog to the operator (from its controller, to their URI)."""
    for dialog in _dialogs(result):
        if (dialog.get("h_entry"), dialog.get("h_id")) in before:
            continue
        if dialog.get("to_uri") == operator_uri and "controller@" in str(dialog.get("from_uri")):
            return dialog
    return None
