"""What routes declare they need: the owner's store, and the authenticated project.

``Authed`` hands a route the key that ``web.middleware.keyauth.KeyAuthMiddleware`` verified
before the request reached the app (before its body was read, a rate limit counted or an
idempotency key claimed; every ``/power-dialer/`` path but the public ones is gated there).
Its codes are the compatible endpoint's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from powerdialer.projects import invalid_key
from powerdialer.storage import Store
from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey

if TYPE_CHECKING:
    from powerdialer.web.app import PowerDialerApp


def get_owner(request: Request) -> PowerDialerApp:
    owner: PowerDialerApp = request.app.state.owner
    return owner


def get_store(request: Request) -> Store:
    return get_owner(request).store


@dataclass(frozen=True, slots=True)
class AuthedProject:
    project_id: int
    key_id: str


async def authenticate(request: Request) -> AuthedProject:
    verified = request.scope.get(SCOPE_KEY)
    if not isinstance(verified, VerifiedKey):
        # Fail closed: only a keyed route outside /power-dialer/ (or declared public) could
        # get here unverified.
        raise invalid_key()
    return AuthedProject(verified.project_id, verified.key_id)


Authed = Annotated[AuthedProject, Depends(authenticate)]
StoreDep = Annotated[Store, Depends(get_store)]
