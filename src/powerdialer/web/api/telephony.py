"""Routes: a project's telephony — how its calls are placed, its members' extensions, and a
server-side call for a lease (the API twin of the screen's ``POST /dialer/leases/{id}/call``).

Secrets are write-only: an answer says whether one is set (``*_secret_set``), never what it
is.  Everything is scoped by the key's project.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from powerdialer.models import MAX_ID
from powerdialer.telephony import calls, service
from powerdialer.telephony import settings as telephony
from powerdialer.web.api.deps import Authed, ServicesDep
from powerdialer.web.api.dialer import LeaseId
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.error_codes import import_errors
from powerdialer.web.api.schemas.telephony import (
    CallAnswer,
    CallBody,
    ExtensionBody,
    OperatorPhone,
    OperatorPhones,
    TelephonyBody,
    TelephonyPublic,
)
from powerdialer.web.services import Services

router = APIRouter(prefix="/power-dialer", tags=["telephony"], route_class=ApiRoute)

UserId = Annotated[
    int, Path(gt=0, le=MAX_ID, description="A project member's user id.", examples=[7])
]


def _box(services: Services) -> telephony.SecretBox:
    return service.secret_box(services.settings.secret_key)


@router.get(
    "/telephony",
    summary="Read how the project places calls",
    response_model=TelephonyPublic,
    responses=import_errors("invalid_field"),
)
def read_telephony(auth: Authed, services: ServicesDep) -> TelephonyPublic:
    """The method and its fields; secrets only as `http_secret_set` / `pbx_secret_set`."""
    return TelephonyPublic.of(telephony.load(services.store, auth.project_id))


@router.put(
    "/telephony",
    summary="Choose how the project places calls",
    response_model=TelephonyPublic,
    responses=import_errors(
        "invalid_telephony", "host_refused", "secret_key_missing", "invalid_field"
    ),
)
async def save_telephony(
    body: TelephonyBody, auth: Authed, services: ServicesDep
) -> TelephonyPublic:
    """The whole settings: the chosen method's fields are checked and stored, the other
    methods' cleared. A secret left out keeps the stored one; `""` clears it. Secrets are
    encrypted with the server's `POWERDIALER_SECRET_KEY` (docs/telephony.md)."""
    saved = await telephony.save(
        services.writer,
        _box(services),
        auth.project_id,
        body.domain(),
        http_secret=body.http_secret,
        pbx_secret=body.pbx_secret,
        allow=service.allowed(services.settings.outbound_allow),
        now=services.clock(),
    )
    return TelephonyPublic.of(saved)


@router.get(
    "/telephony/operators",
    summary="List the members' extensions",
    response_model=OperatorPhones,
    responses=import_errors("invalid_field"),
)
def list_extensions(auth: Authed, services: ServicesDep) -> OperatorPhones:
    """Every member with the extension or SIP URI their phone answers on (null: none)."""
    found = telephony.members(services.store, auth.project_id)
    return OperatorPhones(items=[OperatorPhone.of(m) for m in found])


@router.put(
    "/telephony/operators/{user_id}",
    summary="Set a member's extension",
    response_model=ExtensionBody,
    responses=import_errors("operator_not_found", "invalid_telephony", "invalid_field"),
)
def set_extension(
    user_id: UserId, body: ExtensionBody, auth: Authed, services: ServicesDep
) -> ExtensionBody:
    """What the PBX rings first for a server-side call: `101`, `sip:101@pbx.example`; null
    removes it."""
    value = telephony.set_extension(
        services.store, auth.project_id, user_id, body.extension, services.clock()
    )
    return ExtensionBody(extension=value)


@router.post(
    "/leases/{lease_id}/call",
    summary="Place a leased contact's call on the server",
    response_model=CallAnswer,
    responses=import_errors(
        "lease_not_found",
        "lease_not_yours",
        "lease_ended",
        "not_server_side",
        "extension_missing",
        "method_unavailable",
        "secret_unreadable",
        "call_in_progress",
        "invalid_field",
    ),
)
async def place_call(
    lease_id: LeaseId, body: CallBody, auth: Authed, services: ServicesDep
) -> CallAnswer:
    """The project's originator (HTTP click-to-call, Asterisk AMI, FreeSWITCH ESL) rings the
    operator's extension, then the contact. On the provider's refusal the answer is `ok:
    false` with its words: the attempt is recorded as `provider_failed` and the row is back
    in the queue (`released: true`)."""
    settings = services.settings
    placed = await calls.place_call(
        services.store,
        services.writer,
        _box(services),
        auth.project_id,
        lease_id,
        body.operator_id,
        now=services.clock(),
        allow=service.allowed(settings.outbound_allow),
    )
    return CallAnswer(ok=placed.ok, error=placed.error, released=placed.released)
