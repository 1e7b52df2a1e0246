"""The shapes every way of placing a call shares.

- :class:`Method`: how a project dials, chosen in Settings.
- :class:`ScreenTelephony`: what the operator's screen needs to know to place a call.
- :class:`Originator`: a server-side way (click-to-call over HTTP, Asterisk AMI, FreeSWITCH
  ESL, Kamailio's dialog bridge) rings the operator's own phone first, then the contact.
- :func:`proposed_outcome`: the outcome a call's final SIP status proposes; the operator
  confirms or changes it, the server never records it alone.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import phonenumbers


class Method(StrEnum):
    LINK = "link"  # a tel:/sip: link from a template, opened by the operator's own softphone
    SOFTPHONE = "softphone"  # the browser softphone: JsSIP over WebSocket to the SIP server
    HTTP = "http"  # HTTP click-to-call: the vendor's shape or a generic template
    AMI = "ami"  # Asterisk Manager Interface Originate
    ESL = "esl"  # FreeSWITCH event socket originate
    KAMAILIO = "kamailio"  # Kamailio's dialog bridge over JSON-RPC (dlg.bridge_dlg)


SERVER_SIDE = frozenset({Method.HTTP, Method.AMI, Method.ESL, Method.KAMAILIO})

DEFAULT_LINK_TEMPLATE = "tel:{e164}"


@dataclass(frozen=True, slots=True)
class ScreenTelephony:
    """What the operator's screen is told about the project's telephony (no secrets)."""

    method: Method = Method.LINK
    link_template: str = DEFAULT_LINK_TEMPLATE
    softphone_ws_url: str | None = None  # ws:// or wss:// of the project's SIP WebSocket server
    softphone_domain: str | None = None  # the SIP domain an operator's URI is under

    @property
    def server_side(self) -> bool:
        """Whether the screen asks the server to place the call (``POST …/call``)."""
        return self.method in SERVER_SIDE


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a server-side originate answered.  ``ok`` means the provider took the call (the
    operator's phone rings); anything else carries the provider's own words in ``message``."""

    ok: bool
    message: str = ""
    provider_status: str | None = None  # the provider's status code or reason, as it sent it
    call_id: str | None = None  # the provider's id of the call, when it gives one


class Originator(Protocol):
    """A server-side way of placing a call: ring ``operator`` (their extension or SIP URI)
    first, then connect them to ``destination`` (E.164)."""

    async def originate(
        self, *, operator: str, destination: str, now: dt.datetime
    ) -> CallResult: ...


LINK_FIELDS = ("e164", "digits", "national")


def link_for(template: str, e164: str) -> str:
    """The operator's call link for one number: ``{e164}`` (``+380931234567``), ``{digits}``
    (``380931234567``) and ``{national}`` (``0931234567``, digits only) are replaced; any
    other brace is refused when the template is saved (:func:`check_link_template`)."""
    digits = e164.lstrip("+")
    try:
        parsed = phonenumbers.parse(e164)
        national = "".join(
            ch
            for ch in phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            if ch.isdigit()
        )
    except phonenumbers.NumberParseException:
        national = digits
    return template.format_map({"e164": e164, "digits": digits, "national": national})


def check_link_template(template: str) -> str | None:
    """Why a link template cannot be used, or ``None``: it must start with ``tel:``,
    ``sip:``, ``sips:``, ``callto:`` or ``https:`` and name only the fields above."""
    if not template.startswith(("tel:", "sip:", "sips:", "callto:", "https:")):
        return "must start with tel:, sip:, sips:, callto: or https:"
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return "has an unmatched brace"
    unknown = sorted(set(fields) - set(LINK_FIELDS))
    if unknown:
        return f"names unknown fields {unknown}: use {{e164}}, {{digits}} or {{national}}"
    return None


# The outcome a final SIP status proposes (issue 13): the operator confirms or changes it.
SIP_PROPOSALS: dict[int, str] = {
    486: "busy",
    600: "busy",
    480: "no_answer",
    408: "no_answer",
    487: "no_answer",
    404: "wrong_number",
    484: "wrong_number",
    604: "wrong_number",
}


def proposed_outcome(sip_status: int | None, answered: bool) -> str | None:
    """``answered`` for a call that was answered; else the status's proposal (any 5xx is
    ``failed``); ``None`` when the status proposes nothing (the operator chooses)."""
    if answered:
        return "answered"
    if sip_status is None:
        return None
    if sip_status in SIP_PROPOSALS:
        return SIP_PROPOSALS[sip_status]
    if 500 <= sip_status < 600:
        return "failed"
    return None
