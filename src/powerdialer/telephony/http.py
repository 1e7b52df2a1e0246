"""HTTP click-to-call: the provider rings the operator's phone, then connects the contact.

- the vendor's shape (``POST /callback/outward_call``): form fields ``extension`` (the
  operator's extension or SIP account) and ``destination`` (the contact's number, in
  international format), the project's key in the header ``Auth-key``;
- a generic template for other PBXs: a method, a URL, a body (form or JSON) in which
  ``{extension}`` and ``{destination}`` are replaced, headers, and the secret in a header of
  the owner's naming.

Any 2xx answer is success unless its JSON body says otherwise (``"result": false``,
``"success": false``, ``"status": "error"`` or an ``error``); anything else carries the
provider's own words (its JSON ``message``/``error``, else the body's text, else the status),
bounded to :data:`MAX_MESSAGE` characters and without control characters (the screen escapes
them again when it shows them).  The request is made through :mod:`powerdialer.outbound`:
resolved at send time, inward addresses refused unless allowed, a timeout, a bounded answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from powerdialer import outbound
from powerdialer.telephony.base import CallResult

MAX_MESSAGE = 300
USER_AGENT = "powerdialer click-to-call"
MAX_ANSWER_BYTES = 16 * 1024  # of the provider's answer: its words are cut to MAX_MESSAGE


def _clean(text: str) -> str:
    """One line of at most MAX_MESSAGE printable characters."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 1] + "…"


def _words(found: Any) -> str | None:
    """The provider's message in a JSON answer, wherever the usual shapes keep it."""
    if isinstance(found, str):
        return found
    if not isinstance(found, dict):
        return None
    for key in ("message", "error_message", "error", "detail", "description", "reason"):
        value = found.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict):
            inner = _words(value)
            if inner:
                return inner
    return None


def _refused(found: Any) -> bool:
    """A 2xx whose JSON says the call was not placed."""
    if not isinstance(found, dict):
        return False
    if found.get("result") is False or found.get("success") is False or found.get("ok") is False:
        return True
    status = found.get("status")
    return (isinstance(status, str) and status.lower() in ("error", "fail", "failed")) or bool(
        found.get("error")
    )


def result_of(answer: outbound.Answer) -> CallResult:
    text = answer.body.decode("utf-8", "replace")
    try:
        found = json.loads(text) if text.strip() else None
    except ValueError:
        found = None
    call_id = None
    if isinstance(found, dict):
        for key in ("call_id", "callId", "uniqueid", "id"):
            if isinstance(found.get(key), str | int):
                call_id = _clean(str(found[key]))[:100]
                break
    if 200 <= answer.status < 300 and not _refused(found):
        return CallResult(ok=True, provider_status=str(answer.status), call_id=call_id)
    words = _words(found) or (text if found is None else None) or f"HTTP {answer.status}"
    if not 200 <= answer.status < 300 and str(answer.status) not in words:
        words = f"{_clean(words)[: MAX_MESSAGE - 12]} (HTTP {answer.status})"
    return CallResult(
        ok=False,
        message=_clean(words),
        provider_status=str(answer.status),
        call_id=call_id,
    )


@dataclass(frozen=True, slots=True)
class HttpOriginator:
    url: str
    secret: str | None
    shape: str = "vendor"  # vendor | generic
    method: str = "POST"
    content_type: str = "form"  # generic: form | json
    body: str = ""  # generic: the template
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_header: str | None = None  # generic: the header the secret goes in
    timeout: float = 10.0
    allow: Sequence[outbound.Network] = ()

    def request_parts(
        self, operator: str, destination: str
    ) -> tuple[str, str, dict[str, str], dict[str, str] | str | None, Any]:
        """(method, url, headers, form data or raw body, JSON) of the call's request."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*"}
        if self.shape == "vendor":
            if self.secret:
                headers["Auth-key"] = self.secret
            return (
                "POST",
                self.url,
                headers,
                {"extension": operator, "destination": destination},
                None,
            )
        headers.update(self.headers)
        if self.secret and self.secret_header:
            headers[self.secret_header] = self.secret
        if self.content_type == "json":
            # The values go in as JSON strings' insides, so a template stays valid JSON.
            values = {
                k: json.dumps(v)[1:-1]
                for k, v in (("extension", operator), ("destination", destination))
            }
            filled = self.body
            for name, value in values.items():
                filled = filled.replace("{" + name + "}", value)
            headers["Content-Type"] = "application/json"
            return self.method, self.url, headers, filled, None  # GET with JSON is refused
        values = {"extension": quote(operator, safe=""), "destination": quote(destination, safe="")}
        filled = self.body
        for name, value in values.items():
            filled = filled.replace("{" + name + "}", value)
        if self.method == "GET":
            joiner = "&" if "?" in self.url else "?"
            return "GET", f"{self.url}{joiner}{filled}" if filled else self.url, headers, None, None
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.method, self.url, headers, filled, None

    async def originate(self, *, operator: str, destination: str, now: dt.datetime) -> CallResult:
        method, url, headers, data, body_json = self.request_parts(operator, destination)
        try:
            answer = await outbound.request(
                method,
                url,
                data=data,
                json=body_json,
                headers=headers,
                policy=outbound.Policy(
                    allow=tuple(self.allow), timeout=self.timeout, max_bytes=MAX_ANSWER_BYTES
                ),
            )
        except outbound.OutboundRefused as exc:
            return CallResult(ok=False, message=_clean(f"the provider was not reached: {exc}"))
        return result_of(answer)
