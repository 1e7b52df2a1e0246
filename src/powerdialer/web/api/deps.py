"""What routes declare they need: the owner's store, and the authenticated project.

``Authed`` checks ``x-project-id`` + ``Auth-key`` exactly like the compatible endpoint (same
codes), so a route handler only ever sees a typed, verified project id.  Rate limits are
applied earlier, by ``web.limits.RateLimitMiddleware``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from powerdialer import projects
from powerdialer.errors import AuthError
from powerdialer.storage import Store
from powerdialer.web.credentials import parse_credentials

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
    headers = request.headers
    credentials = parse_credentials(headers.get("x-project-id"), headers.get("auth-key"))
    if isinstance(credentials, AuthError):
        raise credentials
    project_id, key_id, _secret = credentials
    presented = headers.get("auth-key", "").strip()
    store = get_store(request)
    await run_in_threadpool(
        store.read, lambda conn: projects.authenticate(conn, project_id, presented)
    )
    return AuthedProject(project_id, key_id)


Authed = Annotated[AuthedProject, Depends(authenticate)]
StoreDep = Annotated[Store, Depends(get_store)]
