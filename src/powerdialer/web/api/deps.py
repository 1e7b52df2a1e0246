"""What routes declare they need: the services (and the store among them), the authenticated
project, and the ids in their paths.

``Authed`` hands a route the key that ``web.middleware.keyauth.KeyAuthMiddleware`` verified
before the request reached the app (before its body was read, a rate limit counted or an
idempotency key claimed; every ``/power-dialer/`` path but the public ones is gated there).
Its codes are the compatible endpoint's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from powerdialer.models import MAX_ID
from powerdialer.projects import KeyProof, invalid_key
from powerdialer.storage import Store
from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services  # set by web.api.build_api
    return services


def get_store(request: Request) -> Store:
    return get_services(request).store


@dataclass(frozen=True, slots=True)
class AuthedProject:
    project_id: int
    key_id: str
    secret_hash: str

    @property
    def proven(self) -> tuple[int, KeyProof]:
        """The project and the key, for a write that checks the key again."""
        return self.project_id, KeyProof(self.key_id, self.secret_hash)


async def authenticate(request: Request) -> AuthedProject:
    verified = request.scope.get(SCOPE_KEY)
    if not isinstance(verified, VerifiedKey):
        # Fail closed: only a keyed route outside /power-dialer/ (or declared public) could
        # get here unverified.
        raise invalid_key()
    return AuthedProject(verified.project_id, verified.key_id, verified.secret_hash)


Authed = Annotated[AuthedProject, Depends(authenticate)]
ServicesDep = Annotated[Services, Depends(get_services)]
StoreDep = Annotated[Store, Depends(get_store)]

# Ids in a path: anything but a database id (letters, 0, 2^63) is 422 ``invalid_field``.
CampaignId = Annotated[
    int,
    Path(
        gt=0,
        le=MAX_ID,
        description="The campaign's id (campaignId, editCampaign).",
        examples=[456],
    ),
]
JobId = Annotated[int, Path(gt=0, le=MAX_ID, description="The import job's id.")]
RowId = Annotated[int, Path(gt=0, le=MAX_ID, description="The row's id.")]
