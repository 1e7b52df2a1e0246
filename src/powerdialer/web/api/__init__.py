"""Everything but the compatible hot path: a FastAPI app with one router per area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from powerdialer import __version__
from powerdialer.web.api import bulk, campaigns, errors, health, imports, limits, rows

if TYPE_CHECKING:
    from powerdialer.web.app import PowerDialerApp

DESCRIPTION = """A Power Dialer campaign service, wire-compatible with Ringostat's
`POST /power-dialer/campaigns/campaign-rows`. Every call is authenticated with the headers
`x-project-id` (the project's integer id) and `Auth-key` (an API key of that project)."""


def build_api(owner: PowerDialerApp) -> FastAPI:
    api = FastAPI(title="powerdialer", version=__version__, description=DESCRIPTION)
    api.state.owner = owner
    errors.install(api)
    api.include_router(health.router)
    for module in (limits, campaigns, rows, bulk, imports):
        api.include_router(module.router)
    return api
