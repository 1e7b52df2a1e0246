"""Placing a leased contact's call on the server (``POST /dialer/leases/{id}/call`` and its
API twin): the project's originator rings the operator's own phone, then the contact.

:func:`place_call` checks that the lease is still the operator's, reads the operator's
extension and the project's settings, and asks the originator.  When the provider refuses
(or does not answer in time), the attempt is recorded as ``provider_failed`` (no attempt
used, no cap counted, due again at once: docs/dialer.md) — which ends the lease and gives
the row back unspent — and the answer carries the provider's words.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from powerdialer import outbound
from powerdialer.dialer import control
from powerdialer.dialer.outcomes import PROVIDER_FAILED
from powerdialer.dialer.wrapup import Record
from powerdialer.errors import Conflict, NotFound, PowerDialerError
from powerdialer.storage import Store
from powerdialer.storage import telephony as sql
from powerdialer.storage.writer import GroupCommitter
from powerdialer.telephony.ami import AmiOriginator
from powerdialer.telephony.base import SERVER_SIDE, CallResult, Method, Originator
from powerdialer.telephony.esl import EslOriginator
from powerdialer.telephony.http import HttpOriginator
from powerdialer.telephony.kamailio import KamailioBridge
from powerdialer.telephony.secrets import SecretBox
from powerdialer.telephony.settings import Secrets, TelephonySettings, load, secrets_of

# A little over the originator's own timeout: its answer, not ours, should say what waited.
MARGIN_SECONDS = 2.0
# Leases whose call is being placed in this process: a second press of Call (a double click,
# a retry while the PBX is slow) must not ring the operator twice.
_PLACING: set[tuple[int, int]] = set()


Builder = Callable[[TelephonySettings, Secrets, Sequence[outbound.Network]], Originator]


@dataclass(frozen=True, slots=True)
class CallPlaced:
    ok: bool
    error: str | None = None  # the provider's words
    released: bool = False  # the row went back to the queue (a provider failure)
    call_id: str | None = None


def originator_for(
    found: TelephonySettings, secrets: Secrets, allow: Sequence[outbound.Network]
) -> Originator:
    """The project's server-side way of placing a call, built from its settings."""
    timeout = float(found.timeout_seconds)
    if found.method is Method.HTTP:
        return HttpOriginator(
            url=found.http_url or "",
            secret=secrets.http_secret,
            shape=found.http_shape or "vendor",
            method=found.http_method or "POST",
            content_type=found.http_content_type or "form",
            body=found.http_body or "",
            headers=found.http_headers,
            secret_header=found.http_secret_header,
            timeout=timeout,
            allow=allow,
        )
    if found.method is Method.AMI:
        return AmiOriginator(
            host=found.pbx_host or "",
            port=found.pbx_port or 5038,
            username=found.pbx_username or "",
            secret=secrets.pbx_secret or "",
            context=found.pbx_context or "",
            channel=found.pbx_channel or "PJSIP/{extension}",
            caller_id=found.caller_id,
            timeout=timeout,
            allow=tuple(allow),
        )
    if found.method is Method.ESL:
        return EslOriginator(
            host=found.pbx_host or "",
            port=found.pbx_port or 8021,
            password=secrets.pbx_secret or "",
            context=found.pbx_context or "default",
            channel=found.pbx_channel or "user/{extension}",
            caller_id=found.caller_id,
            timeout=timeout,
            allow=tuple(allow),
        )
    if found.method is Method.KAMAILIO:
        url = found.kamailio_url or ""
        domain = found.softphone_domain or urlsplit(url).hostname or ""
        # The whole call fits in the timeout: two JSON-RPC requests around the operator's
        # ringing (docs/telephony.md, "Kamailio click-to-call").
        request_timeout = min(5.0, timeout / 3)
        return KamailioBridge(
            url,
            sip_domain=domain,
            outbound_proxy=f"sip:{domain}",
            answer_timeout=max(1.0, timeout - 2 * request_timeout),
            timeout=request_timeout,
            allow=allow,
        )
    raise Conflict(
        f"placing calls by {found.method.value} is not available on this server yet: choose "
        "another method in Settings → Softphone settings → Calls.",
        code="method_unavailable",
        field="method",
    )


def _target(store: Store, project_id: int, lease_id: int, operator_id: int) -> sql.CallTarget:
    target = store.read(lambda conn: sql.call_target(conn, project_id, lease_id))
    if target is None:
        raise NotFound(
            f"lease {lease_id} is not a lease of this project.",
            code="lease_not_found",
            field="lease_id",
        )
    if target.operator_id != operator_id:
        raise Conflict(
            f"lease {lease_id} is operator {target.operator_id}'s, not {operator_id}'s.",
            code="lease_not_yours",
            field="operator_id",
        )
    if not target.current:
        raise Conflict(
            f"lease {lease_id} has ended: ask for the next contact.",
            code="lease_ended",
            field="lease_id",
        )
    return target


def _prepare(
    store: Store,
    box: SecretBox,
    project_id: int,
    lease_id: int,
    operator_id: int,
    allow: Sequence[outbound.Network],
    build: Builder,
) -> tuple[sql.CallTarget, TelephonySettings, Originator]:
    """The reads before the call (in a thread: the event loop does not wait on them)."""
    target = _target(store, project_id, lease_id, operator_id)
    found = load(store, project_id)
    if found.method not in SERVER_SIDE:
        raise Conflict(
            f"this project places calls by {found.method.value}, on the operator's side: the "
            "screen dials itself (Settings → Softphone settings → Calls).",
            code="not_server_side",
            field="method",
        )
    if not target.extension:
        raise Conflict(
            "you have no extension for server-side calls: set the extension or SIP URI your "
            "phone answers on (Settings → Softphone settings → Calls), or ask an owner to.",
            code="extension_missing",
            field="extension",
        )
    return target, found, build(found, secrets_of(store, box, project_id), allow)


async def place_call(
    store: Store,
    writer: GroupCommitter,
    box: SecretBox,
    project_id: int,
    lease_id: int,
    operator_id: int,
    *,
    now: dt.datetime,
    allow: Sequence[outbound.Network] = (),
    build: Builder = originator_for,
) -> CallPlaced:
    key = (project_id, lease_id)
    if key in _PLACING:
        raise Conflict(
            f"the call of lease {lease_id} is being placed already: wait for its answer.",
            code="call_in_progress",
            field="lease_id",
        )
    _PLACING.add(key)
    try:
        target, found, originator = await asyncio.to_thread(
            _prepare, store, box, project_id, lease_id, operator_id, allow, build
        )
        assert target.extension is not None
        limit = found.timeout_seconds + MARGIN_SECONDS
        try:
            result = await asyncio.wait_for(
                originator.originate(
                    operator=target.extension, destination=target.phone_e164, now=now
                ),
                limit,
            )
        except TimeoutError:
            result = CallResult(
                ok=False, message=f"no answer from the PBX within {limit:g} seconds"
            )
    finally:
        _PLACING.discard(key)
    if result.ok:
        return CallPlaced(ok=True, call_id=result.call_id)
    message = result.message or "the provider refused the call"
    record = Record(project_id, lease_id, operator_id, PROVIDER_FAILED, now, note=message)
    try:
        await control.record(writer, record)
    except PowerDialerError:  # the lease ended meanwhile (it ran out, was released)
        return CallPlaced(ok=False, error=message, released=False)
    return CallPlaced(ok=False, error=message, released=True)
